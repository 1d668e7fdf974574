import type { ScoutEvent } from "../events/event.ts";
import type { AttemptOutcome, DeliveryTarget } from "../webhook/outcome.ts";

/** An event already serialised (as kept in an outbox): sent byte for byte as stored. */
export interface SerialisedEvent {
  readonly id: string;
  readonly json: string;
}

/**
 * Makes one signed delivery attempt of one event to one endpoint: the local outbox dispatcher,
 * the notifier Lambda and `email-scout webhook test` all post through it. Never throws:
 * whatever the network, the receiver or a bug does is an outcome, so no caller can lose an
 * event to an exception.
 */
export interface WebhookPoster {
  attempt(
    target: DeliveryTarget,
    event: ScoutEvent | SerialisedEvent,
    nowMs: number,
  ): Promise<AttemptOutcome>;
}
