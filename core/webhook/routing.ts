import type { EventType, ScoutEvent } from "../events/event.ts";

/** The part of an endpoint's configuration that decides which events it receives. */
export interface EndpointFilter {
  readonly id: string;
  /** Only these event types; every type when absent. */
  readonly events?: readonly EventType[] | undefined;
  /** Only events of these customers; every customer when absent. */
  readonly customers?: readonly string[] | undefined;
}

/** Whether one endpoint wants one event. */
export function endpointWants(
  endpoint: EndpointFilter,
  event: Pick<ScoutEvent, "type" | "customer">,
): boolean {
  if (endpoint.events && !endpoint.events.includes(event.type)) return false;
  if (endpoint.customers && !endpoint.customers.includes(event.customer)) return false;
  return true;
}

/** The endpoints one event goes to, in configuration order. */
export function routeEvent<E extends EndpointFilter>(
  event: Pick<ScoutEvent, "type" | "customer">,
  endpoints: readonly E[],
): E[] {
  return endpoints.filter((endpoint) => endpointWants(endpoint, event));
}
