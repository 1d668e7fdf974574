import { describeError } from "../../core/basics/describe-error.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import { expiredWhileHeld, expiryCutoffMs, holdAfterFailure } from "../../core/webhook/endpoint-hold.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { decideRetry } from "../../core/webhook/retry-policy.ts";
import type { StoredHold } from "../aws/dynamo-webhook-holds.ts";
import { type Delivery, deadLetter, hideUntil, type RecordResult } from "./delivery-steps.ts";
import type { NotifierMetrics } from "./notifier-metrics.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import { deliveryAttributesOf, parkedAsRecord, requeue } from "./requeue.ts";

/*
 * The endpoint hold on AWS, as local mode's dispatcher keeps it (core/webhook/endpoint-hold.ts
 * decides its steps in both): after a retryable failure the endpoint is held in the webhook
 * holds table; its messages are parked there and deleted from the queue, except the probe, which
 * stays queued, hidden until the hold ends. The probe's answer releases the parked events
 * (release-parked.ts); its failure holds the endpoint one step longer and expires the parked
 * events past webhooks.maxAgeSeconds into the dead-letter queue.
 */

/** How an attempt relates to its endpoint's hold. */
export type HoldRole =
  /** No hold was seen: an ordinary attempt. */
  | { readonly kind: "free" }
  /** This message owns the hold's probe, and the hold is over. */
  | { readonly kind: "probe"; readonly hold: StoredHold };

/**
 * A probe whose message has not come back this long after its hold ended is taken to be lost
 * (moved away by SQS after its maxReceiveCount, say): the next message of the endpoint takes over.
 */
export const PROBE_LEASE_MS = 15 * 60_000;

/** Parked events expired (or looked at) per query. */
const PAGE = 25;

/** Lets a message through to its attempt, hides it as its held endpoint's probe, or parks it. */
export async function passHold(
  rt: NotifierRuntime,
  delivery: Delivery,
): Promise<{ kind: "attempt"; role: HoldRole } | { kind: "settled"; result: RecordResult }> {
  const { endpoint, record } = delivery;
  let hold: StoredHold | undefined;
  try {
    hold = await rt.holds.get(endpoint.id);
  } catch (error) {
    rt.log.error("cannot read the endpoint's hold; attempting the event anyway", {
      ...delivery.fields,
      error: describeError(error),
    });
    return { kind: "attempt", role: { kind: "free" } };
  }
  if (hold === undefined) return { kind: "attempt", role: { kind: "free" } };
  const nowMs = rt.clock.now();
  let mine = hold.probe === record.messageId;
  if (!mine && (hold.probe === undefined || nowMs >= hold.heldUntilMs + PROBE_LEASE_MS)) {
    mine = await rt.holds.claimProbe(endpoint.id, record.messageId, hold.probe).catch(() => false);
  }
  if (mine) {
    if (nowMs >= hold.heldUntilMs) {
      return { kind: "attempt", role: { kind: "probe", hold: { ...hold, probe: record.messageId } } };
    }
    return { kind: "settled", result: await hideUntil(rt, delivery, hold.heldUntilMs, "endpoint held") };
  }
  const parked = await parkBehind(rt, delivery, hold, delivery.attempts - 1);
  return parked === "hold-ended"
    ? { kind: "attempt", role: { kind: "free" } }
    : { kind: "settled", result: parked };
}

/**
 * A retryable failure. The first one (or a failed probe) holds the endpoint for its next backoff
 * step, with this message as the probe, and expires the parked events past the age limit. A
 * message that was in flight when another one started the hold joins it, parked. If the table
 * cannot be used the message is backed off on its own, as one without a hold would be.
 */
export async function endpointFailed(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  delivery: Delivery,
  outcome: AttemptOutcome,
  role: HoldRole,
  fields: LogFields,
): Promise<RecordResult> {
  const error = outcome.error ?? "failed";
  const { endpoint, record } = delivery;
  const nowMs = rt.clock.now();
  const decision = decideRetry(
    { attempts: delivery.attempts, queuedAtMs: delivery.queuedAtMs, nowMs, outcome },
    rt.policy,
    rt.random,
  );
  let probing: (StoredHold & { delayMs: number }) | undefined;
  let joined: StoredHold | undefined;
  try {
    const previous = role.kind === "probe" ? role.hold : undefined;
    const next = {
      ...holdAfterFailure(previous, outcome, nowMs, rt.policy, rt.random),
      probe: record.messageId,
    };
    const held = previous
      ? await rt.holds.extend(endpoint.id, record.messageId, next)
      : await rt.holds.start(endpoint.id, next);
    if (held) probing = next;
    else joined = await rt.holds.get(endpoint.id);
  } catch (tableError) {
    rt.log.error("cannot write the endpoint's hold; this event is backed off on its own", {
      ...fields,
      error: describeError(tableError),
    });
  }
  if (probing) await expireParked(rt, metrics, endpoint.id, nowMs, error);
  if (decision.action === "give-up") {
    // The probe is the endpoint's wake-up: it leaves only once a parked event took its place.
    if (probing && !(await handOverProbe(rt, endpoint.id, record.messageId, probing))) {
      return hideUntil(rt, delivery, probing.heldUntilMs, error);
    }
    rt.log.warn("webhook event not delivered in time; moved to the dead-letter queue", {
      ...fields,
      reason: decision.reason,
    });
    return deadLetter(rt, metrics, record, endpoint.id, {
      reason: "expired",
      lastStatus: outcome.status,
      lastError: `${error}; ${decision.reason}`,
      attempts: delivery.attempts,
    });
  }
  metrics.count("WebhookRetried", endpoint.id);
  if (probing) {
    rt.log.warn(
      probing.failures === 1
        ? "webhook endpoint failing; its events are held and retried with backoff"
        : "webhook endpoint still failing; its events stay held",
      { ...fields, failures: probing.failures, retryInMs: probing.delayMs },
    );
    return hideUntil(rt, delivery, probing.heldUntilMs, error);
  }
  if (joined) {
    const parked = await parkBehind(rt, delivery, joined, delivery.attempts);
    if (parked !== "hold-ended") return parked;
  }
  const retryInSeconds = Math.max(0, Math.ceil((decision.atMs - nowMs) / 1000));
  rt.log.warn("webhook delivery failed; retrying with backoff", { ...fields, retryInSeconds });
  return hideUntil(rt, delivery, decision.atMs, error);
}

/**
 * Parks a message behind its endpoint's hold: written to the table first, and only then deleted
 * from the queue (by a "parked" result), so a failure in between keeps it queued. The hold is
 * read again after the write: if the probe released the endpoint meanwhile, the event is taken
 * back ("hold-ended") and attempted now, as the release may have read the table before it.
 */
async function parkBehind(
  rt: NotifierRuntime,
  delivery: Delivery,
  hold: StoredHold,
  attemptsMade: number,
): Promise<RecordResult | "hold-ended"> {
  const { endpoint, record } = delivery;
  const event = {
    messageId: record.messageId,
    body: record.body,
    attributes: deliveryAttributesOf(record),
    queuedAtMs: delivery.queuedAtMs,
    attempts: Math.max(0, attemptsMade),
  };
  let still: StoredHold | undefined;
  try {
    await rt.holds.park(endpoint.id, event);
    still = await rt.holds.get(endpoint.id);
  } catch (error) {
    rt.log.error("cannot park a held endpoint's event; it stays queued", {
      ...delivery.fields,
      error: describeError(error),
    });
    return hideUntil(rt, delivery, hold.heldUntilMs, "endpoint held");
  }
  if (still !== undefined) {
    rt.log.info("webhook event parked behind its endpoint's hold", {
      ...delivery.fields,
      heldUntil: new Date(still.heldUntilMs).toISOString(),
    });
    return { kind: "parked" };
  }
  await rt.holds.unpark(endpoint.id, event).catch((error: unknown) => {
    rt.log.warn("cannot take back a parked event; it may be delivered twice", {
      ...delivery.fields,
      error: describeError(error),
    });
  });
  return "hold-ended";
}

/** The parked events queued before the age limit go to the dead-letter queue, as `expired`. */
async function expireParked(
  rt: NotifierRuntime,
  metrics: NotifierMetrics,
  endpointId: string,
  nowMs: number,
  lastError: string,
): Promise<void> {
  let expired = 0;
  try {
    for (;;) {
      const page = await rt.holds.parked(endpointId, PAGE, expiryCutoffMs(nowMs, rt.policy));
      for (const event of page) {
        await rt.deadLetters.move(parkedAsRecord(event, "parked"), {
          reason: "expired",
          lastError: expiredWhileHeld(rt.policy, lastError),
          attempts: event.attempts,
          nowMs,
        });
        metrics.count("WebhookFailed", endpointId);
        await rt.holds.unpark(endpointId, event);
        expired += 1;
      }
      if (page.length < PAGE) break;
    }
  } catch (error) {
    // What is left stays parked and is looked at again at the next failed probe.
    rt.log.error("cannot expire parked webhook events; they are tried again later", {
      endpoint: endpointId,
      error: describeError(error),
    });
  }
  if (expired > 0) {
    rt.log.warn("parked webhook events expired; moved to the dead-letter queue", {
      endpoint: endpointId,
      expired,
    });
  }
}

/**
 * The probe expired: vacate its slot and queue the oldest parked event in its place, which takes
 * the slot when it arrives. False when that could not be done: the probe then stays queued.
 */
async function handOverProbe(
  rt: NotifierRuntime,
  endpointId: string,
  probe: string,
  hold: StoredHold,
): Promise<boolean> {
  try {
    const vacated = await rt.holds.extend(endpointId, probe, {
      failures: hold.failures,
      heldUntilMs: hold.heldUntilMs,
    });
    if (!vacated) return true;
    const oldest = await rt.holds.parked(endpointId, 1);
    if (oldest.length === 0) return true;
    const taken = await requeue(rt, oldest);
    if (taken.length === 0) return false;
    await rt.holds.unpark(endpointId, taken[0] as (typeof taken)[number]);
    return true;
  } catch (error) {
    rt.log.error("cannot hand the endpoint's probe over; the expired probe stays queued", {
      endpoint: endpointId,
      error: describeError(error),
    });
    return false;
  }
}
