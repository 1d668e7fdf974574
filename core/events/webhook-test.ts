import type { ScoutEvent } from "./event.ts";
import { makeEvent } from "./make-event.ts";

export type WebhookTestData = {
  readonly message: string;
};

export type WebhookTestEvent = ScoutEvent<"webhook.test", WebhookTestData>;

const DEFAULT_MESSAGE = "Test event from Email Scout: this endpoint receives and can verify its webhooks.";

/** A harmless event an operator sends to prove an endpoint receives and verifies webhooks. */
export function webhookTestEvent(input: {
  readonly now: number;
  readonly customer: string;
  readonly id?: string;
  readonly message?: string;
}): WebhookTestEvent {
  return makeEvent("webhook.test", { ...input, targetId: "" }, { message: input.message ?? DEFAULT_MESSAGE });
}
