import type { AttemptOutcome } from "./outcome.ts";
import { backoffDelayMs, type RetryPolicy } from "./retry-policy.ts";

/*
 * The backoff of a failing webhook endpoint as a whole, the same in both shells: local mode keeps
 * it in memory over its SQLite outbox (WebhookDispatcher), the AWS notifier in the webhook holds
 * table shared by all its invocations. While an endpoint is held its events wait; when the hold
 * ends one of them goes out alone as the probe; the probe's answer either releases them all, in
 * queued order, or holds the endpoint for the next, longer step.
 */

/** A failing endpoint: `failures` failed probes in a row, none of its events sent before `heldUntilMs`. */
export interface EndpointHold {
  readonly failures: number;
  readonly heldUntilMs: number;
}

/**
 * The hold after a retryable failure of the probe (or of the first attempt, when `previous` is
 * absent): the endpoint's next backoff step, or the receiver's Retry-After (capped) instead.
 */
export function holdAfterFailure(
  previous: EndpointHold | undefined,
  outcome: Pick<AttemptOutcome, "retryAfterMs">,
  nowMs: number,
  policy: RetryPolicy,
  random: () => number,
): EndpointHold & { readonly delayMs: number } {
  const failures = (previous?.failures ?? 0) + 1;
  const delayMs =
    outcome.retryAfterMs === undefined
      ? backoffDelayMs(failures, policy, random)
      : Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs);
  return { failures, heldUntilMs: nowMs + delayMs, delayMs };
}

/**
 * Whether an attempt shows the receiver is up, so its held events should go out now: a 2xx, or
 * any answer it chose to give (a 4xx, a redirect). A refusal without an answer (an address the
 * target guard refused) proves nothing; a 410 disables the endpoint instead (see isGone).
 */
export function endpointAnswered(outcome: Pick<AttemptOutcome, "kind" | "status">): boolean {
  if (outcome.kind === "delivered") return true;
  return outcome.kind === "rejected" && outcome.status !== undefined;
}

/** Held events queued before this time are past the age limit: they expire at the next failed probe. */
export function expiryCutoffMs(nowMs: number, policy: RetryPolicy): number {
  return nowMs - policy.maxAgeMs;
}

/** The error an event that expired while its endpoint was held is kept with. */
export function expiredWhileHeld(policy: RetryPolicy, lastError: string | undefined): string {
  const maxAgeSeconds = Math.round(policy.maxAgeMs / 1000);
  return `not delivered within ${maxAgeSeconds} s: the endpoint kept failing (${lastError ?? "failed"})`;
}
