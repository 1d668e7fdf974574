import { describe, expect, it } from "vitest";
import {
  endpointAnswered,
  expiredWhileHeld,
  expiryCutoffMs,
  holdAfterFailure,
} from "../../../../core/webhook/endpoint-hold.ts";
import { retryPolicyFor } from "../../../../core/webhook/retry-policy.ts";

// The steps of an endpoint's hold, which the local dispatcher and the AWS notifier both take.

const policy = retryPolicyFor(3_600);
const NOW = 1_800_000_000_000;

describe("holdAfterFailure", () => {
  it("counts the endpoint's failed probes and waits its backoff step: full jitter up to base x 2^(n-1)", () => {
    const first = holdAfterFailure(undefined, {}, NOW, policy, () => 0.5);
    expect(first).toEqual({ failures: 1, heldUntilMs: NOW + 500, delayMs: 500 });
    const fourth = holdAfterFailure({ failures: 3, heldUntilMs: NOW }, {}, NOW, policy, () => 0.5);
    expect(fourth).toEqual({ failures: 4, heldUntilMs: NOW + 4_000, delayMs: 4_000 });
  });

  it("never waits longer than the policy's ceiling, however many failures", () => {
    const late = holdAfterFailure({ failures: 40, heldUntilMs: NOW }, {}, NOW, policy, () => 0.999);
    expect(late.delayMs).toBeLessThanOrEqual(policy.maxDelayMs);
    expect(late.delayMs).toBeGreaterThan(policy.maxDelayMs * 0.99);
  });

  it("takes the receiver's Retry-After in place of the step, up to the policy's cap", () => {
    expect(holdAfterFailure(undefined, { retryAfterMs: 120_000 }, NOW, policy, () => 0.5).delayMs).toBe(
      120_000,
    );
    expect(holdAfterFailure(undefined, { retryAfterMs: 86_400_000 }, NOW, policy, () => 0.5).delayMs).toBe(
      policy.maxRetryAfterMs,
    );
  });
});

describe("endpointAnswered", () => {
  it.each([
    [{ kind: "delivered", status: 204 }, true],
    [{ kind: "rejected", status: 400 }, true],
    [{ kind: "rejected", status: 301 }, true],
    // A refused address got no answer: it shows nothing about the receiver.
    [{ kind: "rejected" }, false],
    [{ kind: "retry", status: 503 }, false],
    [{ kind: "retry" }, false],
    [{ kind: "gone", status: 410 }, false],
  ] as const)("%o: %s", (outcome, answered) => {
    expect(endpointAnswered(outcome)).toBe(answered);
  });
});

describe("the age limit of held events", () => {
  it("expires what was queued maxAgeSeconds or more ago, saying why", () => {
    expect(expiryCutoffMs(NOW, policy)).toBe(NOW - 3_600_000);
    expect(expiredWhileHeld(policy, "HTTP 503")).toBe(
      "not delivered within 3600 s: the endpoint kept failing (HTTP 503)",
    );
    expect(expiredWhileHeld(policy, undefined)).toBe(
      "not delivered within 3600 s: the endpoint kept failing (failed)",
    );
  });
});
