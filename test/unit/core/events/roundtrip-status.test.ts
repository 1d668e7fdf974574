import { describe, expect, it } from "vitest";
import { roundTripStatus, roundTripThresholdsOf } from "../../../../core/events/roundtrip-status.ts";
import { probeRecord } from "../../../support/event-fixtures.ts";

const THRESHOLDS = { warningMs: 30_000, criticalMs: 120_000 };

describe("roundTripStatus", () => {
  it.each([
    [4_210, "OK", "ok"],
    [29_999, "OK", "ok"],
    [30_000, "WARNING", "slow"],
    [119_999, "WARNING", "slow"],
    [120_000, "CRITICAL", "slow"],
  ])("a return after %i ms is %s (%s)", (rttMs, status, reason) => {
    expect(roundTripStatus(probeRecord({ rttMs }), THRESHOLDS)).toEqual({ status, reason });
  });

  it.each([
    ["late", "WARNING"],
    ["lost", "CRITICAL"],
    ["bounced", "CRITICAL"],
    ["send-failed", "CRITICAL"],
  ] as const)("a %s probe is %s with that reason", (state, status) => {
    expect(roundTripStatus(probeRecord({ state }), THRESHOLDS)).toEqual({ status, reason: state });
  });

  it("refuses a probe still in flight", () => {
    expect(() => roundTripStatus(probeRecord({ state: "sent" }), THRESHOLDS)).toThrow(/p_0123456789abcdef/);
  });
});

describe("roundTripThresholdsOf", () => {
  it("takes the target's probe settings over the global ones, in ms", () => {
    const global = { warningSeconds: 30, criticalSeconds: 120 };
    expect(roundTripThresholdsOf(global)).toEqual({ warningMs: 30_000, criticalMs: 120_000 });
    expect(roundTripThresholdsOf(global, { warningSeconds: 10 })).toEqual({
      warningMs: 10_000,
      criticalMs: 120_000,
    });
  });
});
