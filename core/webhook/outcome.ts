import type { Secret } from "../basics/secret.ts";

/**
 * What one POST to an endpoint came to. Only "retry" is tried again; "gone" (410) disables
 * the endpoint; "rejected" (other 4xx, 3xx) is recorded and never retried.
 */
export type AttemptKind = "delivered" | "retry" | "gone" | "rejected";

export interface AttemptOutcome {
  readonly kind: AttemptKind;
  /** The HTTP status, absent when no answer came (timeout, refused, reset). */
  readonly status?: number;
  /** From the start of the request to the end of the (bounded) answer. */
  readonly durationMs: number;
  /** A short, log-safe explanation; absent on success. */
  readonly error?: string;
  /** From a Retry-After header on a retry outcome, in ms from now. */
  readonly retryAfterMs?: number;
}

/** Where one attempt goes: the endpoint's URL, its secret and its timeout. */
export interface DeliveryTarget {
  readonly id: string;
  readonly url: string;
  readonly secret: Secret | string;
  readonly timeoutMs: number;
  /** Link-local, metadata and unspecified addresses are refused unless this is true. */
  readonly allowLinkLocalAddresses?: boolean;
}
