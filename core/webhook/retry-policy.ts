import type { AttemptOutcome } from "./outcome.ts";

/** How failed deliveries are spaced out, and when they stop. */
export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** A receiver's Retry-After is honoured up to this much. */
  readonly maxRetryAfterMs: number;
  /** Retries stop once the event has been queued this long; it is then kept as "failed". */
  readonly maxAgeMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 10 * 60_000,
  maxRetryAfterMs: 60 * 60_000,
  maxAgeMs: 86_400_000,
};

/** The policy for a config's `webhooks.maxAgeSeconds`. */
export function retryPolicyFor(maxAgeSeconds: number, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, maxAgeMs: maxAgeSeconds * 1000, ...overrides };
}

/**
 * Exponential backoff with full jitter: a uniform wait between 0 and min(cap, base * factor^(n-1))
 * after the n-th failed attempt. Jitter spreads out the retries of many events that failed
 * together, so a receiver coming back from an outage is not hit by all of them at once.
 */
export function backoffDelayMs(failedAttempts: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
  return Math.floor(random() * ceiling);
}

export type RetryDecision =
  | { readonly action: "retry"; readonly atMs: number }
  | { readonly action: "give-up"; readonly reason: string };

export interface RetryInput {
  /** Attempts made so far, this failed one included. */
  readonly attempts: number;
  /** When the event was queued for this endpoint (or redriven). */
  readonly queuedAtMs: number;
  readonly nowMs: number;
  readonly outcome: Pick<AttemptOutcome, "retryAfterMs">;
}

/**
 * When to try a retryable failure again. A Retry-After (capped) replaces the backoff; the
 * last attempt is made at the age limit rather than skipped, and after it the event is failed.
 */
export function decideRetry(
  input: RetryInput,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const giveUpAtMs = input.queuedAtMs + policy.maxAgeMs;
  if (input.nowMs >= giveUpAtMs) {
    return {
      action: "give-up",
      reason: `not delivered within ${Math.round(policy.maxAgeMs / 1000)} s (${input.attempts} attempts)`,
    };
  }
  const retryAfter = input.outcome.retryAfterMs;
  const delay =
    retryAfter === undefined
      ? backoffDelayMs(input.attempts, policy, random)
      : Math.min(retryAfter, policy.maxRetryAfterMs);
  return { action: "retry", atMs: Math.min(input.nowMs + delay, giveUpAtMs) };
}
