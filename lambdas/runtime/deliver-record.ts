import { describeError } from "../../core/basics/describe-error.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import { endpointAnswered } from "../../core/webhook/endpoint-hold.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import { type DeliveryMessage, parseDeliveryMessage } from "./delivery-message.ts";
import {
  attemptFields,
  type Delivery,
  deadLetter,
  post,
  type RecordResult,
  settleAnswer,
} from "./delivery-steps.ts";
import { endpointFailed, type HoldRole, passHold } from "./held-endpoint.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import { endpointBack, endpointGone, type ReleaseBudget } from "./release-parked.ts";
import { attemptsOf, queuedAtOf } from "./requeue.ts";
import type { SqsRecord } from "./sqs-event.ts";

export { MAX_VISIBILITY_SECONDS, type RecordResult } from "./delivery-steps.ts";

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

/**
 * Acts on an attempt's outcome. The probe of a held endpoint that gets an answer releases the
 * events parked behind it (a 410 moves them to the dead-letter queue); a retryable failure is
 * the hold's business (endpointFailed).
 */
async function settle(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  delivery: Delivery,
  outcome: AttemptOutcome,
  role: HoldRole,
  budget: ReleaseBudget,
): Promise<RecordResult> {
  if (outcome.kind === "retry") {
    return endpointFailed(rt, metrics, delivery, outcome, role, attemptFields(delivery, outcome));
  }
  const result = await settleAnswer(rt, metrics, delivery, { ...outcome, kind: outcome.kind });
  if (role.kind !== "probe") return result;
  if (outcome.kind === "gone") await endpointGone(rt, metrics, delivery.endpoint, outcome);
  else if (endpointAnswered(outcome)) {
    await endpointBack(rt, metrics, delivery.endpoint, budget, attemptFields(delivery, outcome));
  }
  return result;
}
