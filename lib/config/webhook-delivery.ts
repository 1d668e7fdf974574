import type { DeployConfig } from "../../core/config/schema.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../core/webhook/retry-policy.ts";

/** The notifier's timeout when every endpoint answers fast: room for a batch and the SQS calls. */
const MIN_NOTIFIER_TIMEOUT_SECONDS = 60;
/** Beyond the slowest endpoint's own timeout: signing, the dead-letter and visibility calls. */
const NOTIFIER_TIMEOUT_MARGIN_SECONDS = 30;

/**
 * A batch's deliveries run side by side, so an invocation lasts about as long as the slowest
 * endpoint's timeout; the function must outlast it, or a timed-out invocation would retry the
 * whole batch, delivered messages included.
 */
export function notifierTimeoutSeconds(config: DeployConfig): number {
  const slowest = Math.max(0, ...config.webhooks.endpoints.map((endpoint) => endpoint.timeoutSeconds));
  return Math.max(MIN_NOTIFIER_TIMEOUT_SECONDS, Math.ceil(slowest) + NOTIFIER_TIMEOUT_MARGIN_SECONDS);
}

/**
 * About how many times the notifier receives an event that keeps failing for `maxAgeSeconds`:
 * the backoff's ramp up to its ceiling, then one attempt per half a ceiling on average (full
 * jitter). A Retry-After from the receiver only lowers it.
 */
export function expectedReceives(maxAgeSeconds: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const ceilingSeconds = policy.maxDelayMs / 1000;
  const ramp = Math.ceil(Math.log2(policy.maxDelayMs / policy.baseDelayMs) / Math.log2(policy.factor)) + 1;
  return ramp + Math.ceil(maxAgeSeconds / (ceilingSeconds / 2));
}
