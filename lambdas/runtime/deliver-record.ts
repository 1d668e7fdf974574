import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import { describeError } from "../../core/basics/describe-error.ts";
import type { Secret } from "../../core/basics/secret.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { redactUrl } from "../../core/webhook/redact-url.ts";
import { decideRetry } from "../../core/webhook/retry-policy.ts";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import type { DeadLetter } from "./dead-letters.ts";
import { type DeliveryMessage, parseDeliveryMessage } from "./delivery-message.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import type { SqsRecord } from "./sqs-event.ts";

/**
 * SQS's ceiling for a visibility timeout is 12 hours, counted from when the message was received:
 * five minutes are kept back for the time since then (the batching window and this invocation).
 */
export const MAX_VISIBILITY_SECONDS = 12 * 3_600 - 5 * 60;

/**
 * What became of one record. Only "retry-later" keeps the message in the queue (a batch item
 * failure); every other result lets SQS delete it, after it was delivered, moved to the
 * dead-letter queue, or dropped.
 */
export type RecordResult =
  | { readonly kind: "delivered" }
  | { readonly kind: "retry-later"; readonly error: string; readonly visibleInSeconds?: number }
  | { readonly kind: "dead-lettered"; readonly reason: DeadLetter["reason"] }
  | { readonly kind: "dropped" };

/**
 * Delivers one queued (event, endpoint) message, as local mode's dispatcher does one outbox row:
 * a 2xx is done; a retryable failure comes back after a backoff (the message's visibility
 * timeout) until webhooks.maxAgeSeconds, then it is moved to the dead-letter queue; a 4xx or a
 * 410 is moved there at once. Never throws: every failure is a result.
 */
export async function deliverRecord(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  record: SqsRecord,
): Promise<RecordResult> {
  const attempts = Number(record.attributes.ApproximateReceiveCount);
  const queuedAtMs = Number(record.attributes.SentTimestamp);
  let message: DeliveryMessage;
  try {
    message = parseDeliveryMessage(record);
  } catch (error) {
    const lastError = describeError(error);
    rt.log.error("malformed message on the events queue; moved to the dead-letter queue", {
      messageId: record.messageId,
      error: lastError,
    });
    const named = record.messageAttributes[DELIVERY_ATTRIBUTES.endpointId]?.stringValue;
    return deadLetter(rt, metrics, record, named || "unknown", { reason: "malformed", lastError });
  }
  const fields: LogFields = {
    endpoint: message.endpointId,
    event: message.event.id,
    type: message.event.type,
    attempt: attempts,
  };
  const endpoint = rt.endpoint(message.endpointId);
  if (endpoint === undefined) {
    rt.log.warn("event dropped: its webhook endpoint is no longer in the config", fields);
    return { kind: "dropped" };
  }
  let secret: Secret;
  try {
    secret = await rt.secrets.secretFor(endpoint.id);
  } catch (error) {
    // Retried like a failing receiver, so a secret set late still delivers; past the age limit
    // the event is kept in the dead-letter queue rather than retried for as long as SQS keeps it.
    const lastError = describeError(error);
    if (rt.clock.now() >= queuedAtMs + rt.policy.maxAgeMs) {
      rt.log.error("webhook event expired without a usable secret; moved to the dead-letter queue", {
        ...fields,
        error: lastError,
      });
      return deadLetter(rt, metrics, record, endpoint.id, { reason: "expired", lastError });
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
    message.event,
    rt.clock.now(),
  );
  const attempted = { ...fields, status: outcome.status, ms: outcome.durationMs, error: outcome.error };
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
      });
    case "retry":
      return retryLater(
        rt,
        metrics,
        record,
        { endpointId: endpoint.id, queuedAtMs, attempts, outcome },
        attempted,
      );
  }
}

async function retryLater(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  record: SqsRecord,
  attempt: { endpointId: string; queuedAtMs: number; attempts: number; outcome: AttemptOutcome },
  fields: LogFields,
): Promise<RecordResult> {
  const { outcome } = attempt;
  const nowMs = rt.clock.now();
  const error = outcome.error ?? "failed";
  const decision = decideRetry(
    { attempts: attempt.attempts, queuedAtMs: attempt.queuedAtMs, nowMs, outcome },
    rt.policy,
    rt.random,
  );
  if (decision.action === "give-up") {
    rt.log.warn("webhook event not delivered in time; moved to the dead-letter queue", {
      ...fields,
      reason: decision.reason,
    });
    return deadLetter(rt, metrics, record, attempt.endpointId, {
      reason: "expired",
      lastStatus: outcome.status,
      lastError: `${error}; ${decision.reason}`,
    });
  }
  const wantedSeconds = Math.max(0, Math.ceil((decision.atMs - nowMs) / 1000));
  const visibleInSeconds = Math.min(wantedSeconds, MAX_VISIBILITY_SECONDS);
  metrics.count("WebhookRetried", attempt.endpointId);
  rt.log.warn("webhook delivery failed; retrying with backoff", {
    ...fields,
    retryInSeconds: visibleInSeconds,
    ...(visibleInSeconds < wantedSeconds ? { cappedFromSeconds: wantedSeconds } : {}),
  });
  try {
    await rt.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: rt.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: visibleInSeconds,
      }),
    );
  } catch (changeError) {
    // The message still comes back, after the queue's own visibility timeout.
    rt.log.warn("cannot set the retry delay; the event comes back after the queue's visibility timeout", {
      ...fields,
      error: describeError(changeError),
    });
    return { kind: "retry-later", error };
  }
  return { kind: "retry-later", error, visibleInSeconds };
}

async function deadLetter(
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
