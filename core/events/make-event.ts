import { EVENT_SCHEMA_VERSION, type EventType, type ScoutEvent } from "./event.ts";
import { newEventId } from "./event-id.ts";

/** What every builder needs besides its own data. */
export interface EnvelopeInput {
  readonly targetId: string;
  readonly customer: string;
  /** When the event happened, ms since epoch (monitor clock). */
  readonly now: number;
  /** A fixed id (tests, or re-building a known event); a new one otherwise. */
  readonly id?: string;
}

/**
 * Wraps one event's data in the shared envelope. Data shapes are declared with `type`, not
 * `interface`, so they fit ScoutEvent's default `Record<string, unknown>` data.
 */
export function makeEvent<T extends EventType, D>(
  type: T,
  envelope: EnvelopeInput,
  data: D,
): ScoutEvent<T, D> {
  return {
    id: envelope.id ?? newEventId(envelope.now),
    type,
    version: EVENT_SCHEMA_VERSION,
    time: isoTime(envelope.now),
    customer: envelope.customer,
    target: envelope.targetId,
    data,
  };
}

/** ISO 8601 UTC with milliseconds, the one time format events use. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a usable time in ms: ${ms}`);
  return date.toISOString();
}

/**
 * Like isoTime for times read from someone else's clock or headers (a remote Received
 * stamp): an unusable one is left out rather than failing the whole event.
 */
export function isoTimeOrUndefined(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The customer an event of this target belongs to: its own, or the configured default. */
export function customerOf(
  target: { readonly customer?: string | undefined },
  defaultCustomer: string,
): string {
  return target.customer ?? defaultCustomer;
}
