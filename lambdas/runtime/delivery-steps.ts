import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import { describeError } from "../../core/basics/describe-error.ts";
import type { Secret } from "../../core/basics/secret.ts";
import type { WebhookEndpointConfig } from "../../core/config/schema.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { redactUrl } from "../../core/webhook/redact-url.ts";
import type { DeadLetter } from "./dead-letters.ts";
import type { DeliveryMessage } from "./delivery-message.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import type { SqsRecord } from "./sqs-event.ts";

/*
 * The steps of one delivery that know nothing of endpoint holds: posting, acting on an answer,
 * hiding a message for a while, moving it to the dead-letter queue. deliver-record.ts, the hold
 * (held-endpoint.ts) and the release of parked events (release-parked.ts) are built from them.
 */

/**
 * SQS's ceiling for a visibility timeout is 12 hours, counted from when the message was received:
 * five minutes are kept back for the time since then (the batching window and this invocation).
 */
export const MAX_VISIBILITY_SECONDS = 12 * 3_600 - 5 * 60;
/**
 * What became of one record. Only "retry-later" keeps the message in the queue (a batch item
 * failure); every other result lets SQS delete it, after it was delivered, parked behind its
 * endpoint's hold (in the webhook holds table), moved to the dead-letter queue, or dropped.
 */
export type RecordResult =
  | { readonly kind: "delivered" }
  | { readonly kind: "parked" }
  | { readonly kind: "retry-later"; readonly error: string; readonly visibleInSeconds?: number }
  | { readonly kind: "dead-lettered"; readonly reason: DeadLetter["reason"] }
  | { readonly kind: "dropped" };

/** One event on its way to one endpoint: the message, the endpoint, and how old it is. */
export interface Delivery {
  readonly record: SqsRecord;
  readonly message: DeliveryMessage;
  readonly endpoint: WebhookEndpointConfig;
  /** When it was first queued for this endpoint: the start of its retry window. */
  readonly queuedAtMs: number;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  readonly fields: LogFields;
}
/** Signs and posts one delivery; a missing secret is a result of its own, no attempt made. */
export async function post(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  delivery: Delivery,
): Promise<RecordResult | { readonly kind: "posted"; readonly outcome: AttemptOutcome }> {
  const { endpoint, fields } = delivery;
  let secret: Secret;
  try {
    secret = await rt.secrets.secretFor(endpoint.id);
  } catch (error) {
    // Retried like a failing receiver, so a secret set late still delivers; past the age limit
    // the event is kept in the dead-letter queue rather than retried for as long as SQS keeps it.
    const lastError = describeError(error);
    if (rt.clock.now() >= delivery.queuedAtMs + rt.policy.maxAgeMs) {
      rt.log.error("webhook event expired without a usable secret; moved to the dead-letter queue", {
        ...fields,
        error: lastError,
      });
      return deadLetter(rt, metrics, delivery.record, endpoint.id, { reason: "expired", lastError });
    }
    rt.log.error("cannot sign a webhook: no usable secret; the event will be retried", {
      ...fields,
      error: lastError,
    });
    return { kind: "retry-later", error: lastError };
  }
  const outcome = await rt.poster.attempt(
    {
      id: endpoint.id,
      url: endpoint.url,
      secret,
      timeoutMs: Math.round(endpoint.timeoutSeconds * 1000),
      allowLinkLocalAddresses: endpoint.allowLinkLocalAddresses,
    },
    delivery.message.event,
    rt.clock.now(),
  );
  return { kind: "posted", outcome };
}
/**
 * Acts on an answer that ends the event's journey: a 2xx, a refusal (3xx, 4xx) or a 410, the last
 * two moving it to the dead-letter queue. Retryable failures are the hold's business.
 */
export async function settleAnswer(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  delivery: Delivery,
  outcome: AttemptOutcome & { readonly kind: "delivered" | "rejected" | "gone" },
): Promise<RecordResult> {
  const { endpoint, record } = delivery;
  const attempted = {
    ...delivery.fields,
    status: outcome.status,
    ms: outcome.durationMs,
    error: outcome.error,
  };
  switch (outcome.kind) {
    case "delivered":
      metrics.count("WebhookDelivered", endpoint.id);
      rt.log.info("webhook delivered", attempted);
      return { kind: "delivered" };
    case "rejected":
      rt.log.warn("webhook event rejected by the receiver; moved to the dead-letter queue", attempted);
      return deadLetter(rt, metrics, record, endpoint.id, {
        reason: "rejected",
        lastStatus: outcome.status,
        lastError: outcome.error ?? "rejected",
        attempts: delivery.attempts,
      });
    case "gone":
      rt.log.error(
        `webhook endpoint "${endpoint.id}" answered 410 Gone: the receiver wants no more events at ${redactUrl(endpoint.url)}; ` +
          "fix or remove it in webhooks.endpoints and deploy. Its events are kept in the dead-letter queue.",
        attempted,
      );
      return deadLetter(rt, metrics, record, endpoint.id, {
        reason: "gone",
        lastStatus: outcome.status,
        lastError: outcome.error ?? "410 Gone",
        attempts: delivery.attempts,
      });
  }
}

/** The log fields of an attempt: the delivery's, and what the receiver said. */
export function attemptFields(delivery: Delivery, outcome: AttemptOutcome): LogFields {
  return { ...delivery.fields, status: outcome.status, ms: outcome.durationMs, error: outcome.error };
}

/**
 * Hides a message until `atMs` (capped at what SQS allows) and keeps it queued. When the
 * visibility cannot be set, the message comes back after the queue's own visibility timeout.
 */
export async function hideUntil(
  rt: NotifierRuntime,
  delivery: Delivery,
  atMs: number,
  error: string,
): Promise<RecordResult> {
  const wantedSeconds = Math.max(0, Math.ceil((atMs - rt.clock.now()) / 1000));
  const visibleInSeconds = Math.min(wantedSeconds, MAX_VISIBILITY_SECONDS);
  try {
    await rt.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: rt.queueUrl,
        ReceiptHandle: delivery.record.receiptHandle,
        VisibilityTimeout: visibleInSeconds,
      }),
    );
  } catch (changeError) {
    rt.log.warn("cannot set the retry delay; the event comes back after the queue's visibility timeout", {
      ...delivery.fields,
      error: describeError(changeError),
    });
    return { kind: "retry-later", error };
  }
  if (visibleInSeconds < wantedSeconds) {
    rt.log.warn("retry delay capped at what SQS allows", {
      ...delivery.fields,
      wantedSeconds,
      visibleInSeconds,
    });
  }
  return { kind: "retry-later", error, visibleInSeconds };
}

/** Moves a record to the dead-letter queue; when that fails it stays queued and comes back. */
export async function deadLetter(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  record: SqsRecord,
  endpointId: string,
  letter: Omit<DeadLetter, "nowMs">,
): Promise<RecordResult> {
  try {
    await rt.deadLetters.move(record, { ...letter, nowMs: rt.clock.now() });
  } catch (error) {
    // Not moved: the message stays in the events queue and is handled again later.
    rt.log.error("cannot move an event to the dead-letter queue; it stays queued and is retried", {
      endpoint: endpointId,
      messageId: record.messageId,
      reason: letter.reason,
      error: describeError(error),
    });
    return { kind: "retry-later", error: describeError(error) };
  }
  metrics.count("WebhookFailed", endpointId);
  return { kind: "dead-lettered", reason: letter.reason };
}
