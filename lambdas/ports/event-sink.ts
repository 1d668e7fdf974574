import type { ScoutEvent } from "../core/events/event.ts";

/**
 * Where events go to be delivered: the SQLite outbox in local mode, an SQS queue on AWS.
 * `publish` resolves only once the events are durably kept; delivery happens later, at least once.
 */
export interface EventSink {
  publish(events: readonly ScoutEvent[]): Promise<void>;
}
