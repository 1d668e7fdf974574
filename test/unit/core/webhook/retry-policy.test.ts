import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../../../core/webhook/retry-after.ts";
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  retryPolicyFor,
} from "../../../../core/webhook/retry-policy.ts";

const policy = retryPolicyFor(86_400);
const almostOne = () => 0.999_999;

describe("backoffDelayMs", () => {
  it("doubles from 1 s up to the 10 min cap at the top of the jitter range", () => {
    const ceilings = [1, 2, 3, 4, 5, 10, 11, 30].map((n) => backoffDelayMs(n, policy, almostOne));
    expect(ceilings).toEqual([999, 1_999, 3_999, 7_999, 15_999, 511_999, 599_999, 599_999]);
  });

  it("uses full jitter: anywhere from 0 to the ceiling", () => {
    expect(backoffDelayMs(5, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(5, policy, () => 0.5)).toBe(8_000);
  });

  it("has the documented defaults", () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      baseDelayMs: 1_000,
      factor: 2,
      maxDelayMs: 600_000,
      maxRetryAfterMs: 3_600_000,
    });
    expect(retryPolicyFor(60).maxAgeMs).toBe(60_000);
  });
});

describe("decideRetry", () => {
  const queuedAtMs = 1_000_000;

  it("schedules the next attempt after the backoff", () => {
    const decision = decideRetry(
      { attempts: 3, queuedAtMs, nowMs: queuedAtMs + 10_000, outcome: {} },
      policy,
      () => 0.5,
    );
    expect(decision).toEqual({ action: "retry", atMs: queuedAtMs + 10_000 + 2_000 });
  });

  it("honours Retry-After in place of the backoff, capped at one hour", () => {
    const nowMs = queuedAtMs + 1;
    expect(
      decideRetry({ attempts: 1, queuedAtMs, nowMs, outcome: { retryAfterMs: 90_000 } }, policy),
    ).toEqual({
      action: "retry",
      atMs: nowMs + 90_000,
    });
    expect(
      decideRetry({ attempts: 1, queuedAtMs, nowMs, outcome: { retryAfterMs: 5 * 3_600_000 } }, policy),
    ).toEqual({ action: "retry", atMs: nowMs + 3_600_000 });
  });

  it("makes a last attempt at the age limit, then gives up", () => {
    const short = retryPolicyFor(60);
    const late = decideRetry(
      { attempts: 9, queuedAtMs, nowMs: queuedAtMs + 59_000, outcome: {} },
      short,
      almostOne,
    );
    expect(late).toEqual({ action: "retry", atMs: queuedAtMs + 60_000 });
    const over = decideRetry({ attempts: 10, queuedAtMs, nowMs: queuedAtMs + 60_000, outcome: {} }, short);
    expect(over).toEqual({ action: "give-up", reason: "not delivered within 60 s (10 attempts)" });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it.each([
    ["30", 30_000],
    [" 0 ", 0],
    ["Thu, 01 Jan 2026 00:02:00 GMT", 120_000],
    ["Wed, 31 Dec 2025 23:00:00 GMT", 0],
    ["soon", undefined],
    ["-5", undefined],
    ["", undefined],
    [null, undefined],
  ])("reads %j as %j ms", (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});
