import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import { describeError } from "../../core/basics/describe-error.ts";
import type { Secret } from "../../core/basics/secret.ts";
import type { WebhookEndpointConfig } from "../../core/config/schema.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import { endpointAnswered } from "../../core/webhook/endpoint-hold.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { redactUrl } from "../../core/webhook/redact-url.ts";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import type { DeadLetter } from "./dead-letters.ts";
import { type DeliveryMessage, parseDeliveryMessage } from "./delivery-message.ts";
import { endpointFailed, type HoldRole, passHold } from "./held-endpoint.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import { endpointBack, endpointGone, type ReleaseBudget } from "./release-parked.ts";
import { attemptsOf, queuedAtOf } from "./requeue.ts";
import type { SqsRecord } from "./sqs-event.ts";

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

/**
 * Delivers one queued (event, endpoint) message, as local mode's dispatcher does one outbox row:
 * a 2xx is done; a 4xx or a 410 is moved to the dead-letter queue at once; a retryable failure
 * holds the whole endpoint (held-endpoint.ts): its messages are parked until one probe answers,
 * then released in queued order (release-parked.ts). Never throws: every failure is a result.
 */
export async function deliverRecord(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  record: SqsRecord,
  budget: ReleaseBudget,
): Promise<RecordResult> {
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
  const attempts = attemptsOf(record);
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
  const delivery: Delivery = { record, message, endpoint, queuedAtMs: queuedAtOf(record), attempts, fields };
  const gate = await passHold(rt, delivery);
  if (gate.kind === "settled") return gate.result;
  const posted = await post(rt, metrics, delivery);
  if (posted.kind !== "posted") return posted;
  return settle(rt, metrics, delivery, posted.outcome, gate.role, budget);
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
 * Acts on an attempt's outcome. The probe of a held endpoint that gets an answer releases the
 * events parked behind it; a retryable failure is the hold's business (endpointFailed).
 */
export async function settle(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  delivery: Delivery,
  outcome: AttemptOutcome,
  role: HoldRole,
  budget: ReleaseBudget,
): Promise<RecordResult> {
  const { endpoint, record } = delivery;
  const attempted = {
    ...delivery.fields,
    status: outcome.status,
    ms: outcome.durationMs,
    error: outcome.error,
  };
  let result: RecordResult;
  switch (outcome.kind) {
    case "delivered":
      metrics.count("WebhookDelivered", endpoint.id);
      rt.log.info("webhook delivered", attempted);
      result = { kind: "delivered" };
      break;
    case "rejected":
      rt.log.warn("webhook event rejected by the receiver; moved to the dead-letter queue", attempted);
      result = await deadLetter(rt, metrics, record, endpoint.id, {
        reason: "rejected",
        lastStatus: outcome.status,
        lastError: outcome.error ?? "rejected",
        attempts: delivery.attempts,
      });
      break;
    case "gone":
      rt.log.error(
        `webhook endpoint "${endpoint.id}" answered 410 Gone: the receiver wants no more events at ${redactUrl(endpoint.url)}; ` +
          "fix or remove it in webhooks.endpoints and deploy. Its events are kept in the dead-letter queue.",
        attempted,
      );
      result = await deadLetter(rt, metrics, record, endpoint.id, {
        reason: "gone",
        lastStatus: outcome.status,
        lastError: outcome.error ?? "410 Gone",
        attempts: delivery.attempts,
      });
      if (role.kind === "probe") await endpointGone(rt, metrics, endpoint, outcome);
      return result;
    case "retry":
      return endpointFailed(rt, metrics, delivery, outcome, role, attempted);
  }
  if (role.kind === "probe" && endpointAnswered(outcome)) {
    await endpointBack(rt, metrics, endpoint, budget, attempted);
  }
  return result;
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
