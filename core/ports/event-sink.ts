import type { ScoutEvent } from "../events/event.ts";

/**
 * Where events go to be delivered: the SQLite outbox in local mode, an SQS queue on AWS.
 * `publish` resolves only once the events are durably kept; delivery happens later, at least once.
 * When it throws, nothing is known kept, unless the error says which deliveries were not
 * (PartlyKept): a queue that takes messages in batches may have kept some.
 */
export interface EventSink {
  publish(events: readonly ScoutEvent[]): Promise<void>;
}

/** What an error thrown by a sink that kept part of a publish says about it. */
export interface PartlyKept {
  /** The ids of the events at least one of whose deliveries was not kept. */
  readonly incompleteEventIds: ReadonlySet<string>;
  /** Of those, the ones none of whose deliveries was kept. */
  readonly droppedEventIds: ReadonlySet<string>;
}

/** The PartlyKept facts of an error thrown by publish, if it has them. */
export function partlyKeptOf(error: unknown): PartlyKept | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { incompleteEventIds, droppedEventIds } = error as Partial<PartlyKept>;
  return incompleteEventIds instanceof Set && droppedEventIds instanceof Set
    ? { incompleteEventIds, droppedEventIds }
    : undefined;
}
