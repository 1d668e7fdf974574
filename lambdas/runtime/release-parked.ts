import type { Context } from "aws-lambda";
import { describeError } from "../../core/basics/describe-error.ts";
import type { WebhookEndpointConfig } from "../../core/config/schema.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import { holdAfterFailure } from "../../core/webhook/endpoint-hold.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import type { ParkedEvent } from "../aws/dynamo-webhook-holds.ts";
import { parseDeliveryMessage } from "./delivery-message.ts";
import { type Delivery, deadLetter, post, type RecordResult, settleAnswer } from "./delivery-steps.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import { parkedAsRecord, requeue } from "./requeue.ts";

/** Whether there is time left in this invocation for one more attempt of `timeoutMs`. */
export interface ReleaseBudget {
  allows(timeoutMs: number): boolean;
}

/**
 * Kept back from the Lambda's timeout beyond an attempt's own: putting what is left back on the
 * queue and deleting it from the table, a few calls of at most 10 s each.
 */
export const RELEASE_MARGIN_MS = 20_000;
/** Without a Lambda context (tests, local runs), releases stop after this long. */
export const DEFAULT_RELEASE_MS = 60_000;

/** The invocation's budget: its remaining time less an attempt and the margin. */
export function releaseBudget(context: Pick<Context, "getRemainingTimeInMillis"> | undefined): ReleaseBudget {
  const started = performance.now();
  const remaining = context
    ? () => context.getRemainingTimeInMillis()
    : () => DEFAULT_RELEASE_MS - (performance.now() - started);
  return { allows: (timeoutMs) => remaining() > timeoutMs + RELEASE_MARGIN_MS };
}

/** Parked events read per query. */
const PAGE = 25;

/**
 * The held endpoint answered its probe: the hold is cleared, so new messages go out at once, and
 * the parked events are posted here one at a time, oldest first, while the invocation has time;
 * the rest are put back on the events queue (then deleted from the table), where they go out
 * within seconds. Should the endpoint fail again on the way, it is held again (a fresh hold), the
 * failed event is queued as its wake-up, and the rest stay parked.
 */
export async function endpointBack(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  endpoint: WebhookEndpointConfig,
  budget: ReleaseBudget,
  fields: LogFields,
): Promise<void> {
  try {
    await rt.holds.clear(endpoint.id);
  } catch (error) {
    // The hold stays: the probe's next try releases them.
    rt.log.error("cannot clear the endpoint's hold", { ...fields, error: describeError(error) });
    return;
  }
  const timeoutMs = Math.round(endpoint.timeoutSeconds * 1000);
  let delivered = 0;
  let requeued = 0;
  try {
    for (;;) {
      const page = await rt.holds.parked(endpoint.id, PAGE);
      if (page.length === 0) break;
      for (const [index, event] of page.entries()) {
        if (!budget.allows(timeoutMs)) {
          requeued += await putBack(rt, endpoint.id, page.slice(index));
          requeued += await putBackAll(rt, endpoint.id);
          return;
        }
        const released = await releaseOne(rt, metrics, endpoint, event);
        if (released !== "settled") {
          await holdAgain(rt, endpoint.id, event, released.failed);
          return;
        }
        await rt.holds.unpark(endpoint.id, event);
        delivered += 1;
      }
    }
  } catch (error) {
    // What is left stays parked; a parked event delivered but not removed may go out twice.
    rt.log.error("releasing parked webhook events stopped", { ...fields, error: describeError(error) });
  } finally {
    rt.log.info("webhook endpoint delivering again; its parked events are sent", {
      ...fields,
      released: delivered,
      requeued,
    });
  }
}

/** The endpoint answered 410 to its probe: every parked event is kept in the dead-letter queue as `gone`. */
export async function endpointGone(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  endpoint: WebhookEndpointConfig,
  outcome: AttemptOutcome,
): Promise<void> {
  try {
    await rt.holds.clear(endpoint.id);
    for (;;) {
      const page = await rt.holds.parked(endpoint.id, PAGE);
      if (page.length === 0) return;
      for (const event of page) {
        const result = await deadLetter(rt, metrics, parkedAsRecord(event, "parked"), endpoint.id, {
          reason: "gone",
          lastStatus: outcome.status,
          lastError: outcome.error ?? "410 Gone",
          attempts: event.attempts,
        });
        if (result.kind !== "dead-lettered") return;
        await rt.holds.unpark(endpoint.id, event);
      }
    }
  } catch (error) {
    rt.log.error("cannot move a gone endpoint's parked events", {
      endpoint: endpoint.id,
      error: describeError(error),
    });
  }
}

/** Posts one parked event; `failed` when the endpoint failed it again (it stays parked). */
async function releaseOne(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  endpoint: WebhookEndpointConfig,
  event: ParkedEvent,
): Promise<"settled" | { readonly failed: AttemptOutcome }> {
  const record = parkedAsRecord(event, "parked");
  const delivery: Delivery = {
    record,
    message: parseDeliveryMessage(record),
    endpoint,
    queuedAtMs: event.queuedAtMs,
    attempts: event.attempts + 1,
    fields: { endpoint: endpoint.id, event: event.attributes.eventId, attempt: event.attempts + 1 },
  };
  const posted = await post(rt, metrics, delivery);
  let result: RecordResult = posted.kind === "posted" ? { kind: "delivered" } : posted;
  if (posted.kind === "posted") {
    const { outcome } = posted;
    if (outcome.kind === "retry") {
      rt.log.warn("webhook endpoint failed again while its parked events were released", {
        ...delivery.fields,
        error: outcome.error,
      });
      return { failed: outcome };
    }
    result = await settleAnswer(rt, metrics, delivery, { ...outcome, kind: outcome.kind });
  }
  // Not settled (no secret, or the dead-letter queue refused it): queued again, to be retried.
  if (result.kind === "retry-later" && (await requeue(rt, [event])).length === 0) {
    throw new Error("the events queue refused a parked event; it stays parked");
  }
  return "settled";
}

/**
 * The endpoint failed again during a release: it is held afresh, with no probe; the event that
 * failed goes back on the queue to become the probe when it arrives; the rest stay parked.
 */
async function holdAgain(
  rt: NotifierRuntime,
  endpointId: string,
  event: ParkedEvent,
  failed: AttemptOutcome,
): Promise<void> {
  const hold = holdAfterFailure(undefined, failed, rt.clock.now(), rt.policy, rt.random);
  await rt.holds.start(endpointId, { failures: hold.failures, heldUntilMs: hold.heldUntilMs });
  await putBack(rt, endpointId, [event]);
}

/** Puts these parked events back on the queue and removes those SQS took; returns how many. */
async function putBack(
  rt: NotifierRuntime,
  endpointId: string,
  events: readonly ParkedEvent[],
): Promise<number> {
  const taken = await requeue(rt, events);
  for (const event of taken) await rt.holds.unpark(endpointId, event);
  return taken.length;
}

async function putBackAll(rt: NotifierRuntime, endpointId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const page = await rt.holds.parked(endpointId, PAGE);
    if (page.length === 0) return total;
    const moved = await putBack(rt, endpointId, page);
    if (moved === 0) return total;
    total += moved;
  }
}
