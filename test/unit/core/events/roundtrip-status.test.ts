import { describe, expect, it } from "vitest";
import { roundTripStatus, roundTripThresholdsOf } from "../../../../core/events/roundtrip-status.ts";
import type { ReceiverVerdicts } from "../../../../core/verdicts/receiver-verdicts.ts";
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

describe("roundTripStatus: the receiver's verdicts", () => {
  const spam: ReceiverVerdicts = {
    spam: [{ filter: "rspamd", verdict: "spam", score: 8.4, threshold: 15 }],
    ignoredAuthResults: 0,
    problems: [],
  };
  const dmarcFail: ReceiverVerdicts = {
    dmarc: { result: "fail", reason: "p=reject", domain: "example.net" },
    spam: [{ filter: "spamassassin", verdict: "ham", score: 1, threshold: 5 }],
    ignoredAuthResults: 0,
    problems: [],
  };
  const clean: ReceiverVerdicts = {
    dmarc: { result: "pass" },
    spam: [{ filter: "microsoft", verdict: "ham", scl: 1 }],
    ignoredAuthResults: 2,
    problems: [],
  };

  it.each<
    [string, ReceiverVerdicts, Partial<typeof THRESHOLDS & { junkStatus: "OK" | "CRITICAL" }>, string, string]
  >([
    ["judged spam", spam, {}, "WARNING", "spam-verdict"],
    ["judged spam, junkStatus CRITICAL", spam, { junkStatus: "CRITICAL" }, "CRITICAL", "spam-verdict"],
    ["judged spam, junkStatus OK", spam, { junkStatus: "OK" }, "OK", "ok"],
    ["a DMARC fail", dmarcFail, {}, "WARNING", "dmarc-fail"],
    ["everything passing", clean, {}, "OK", "ok"],
  ])("a quick return %s is %s (%s)", (_name, verdicts, extra, status, reason) => {
    expect(roundTripStatus(probeRecord({ verdicts }), { ...THRESHOLDS, ...extra })).toEqual({
      status,
      reason,
    });
  });

  it("a probe found in the junk folder is junkStatus, landed-in-junk, before any filter's word", () => {
    const inJunk: ReceiverVerdicts = { ...spam, folder: { name: "Junk", junk: true } };
    expect(roundTripStatus(probeRecord({ verdicts: inJunk }), THRESHOLDS)).toEqual({
      status: "WARNING",
      reason: "landed-in-junk",
    });
    expect(
      roundTripStatus(probeRecord({ verdicts: inJunk }), { ...THRESHOLDS, junkStatus: "CRITICAL" }),
    ).toEqual({ status: "CRITICAL", reason: "landed-in-junk" });
    const inInbox: ReceiverVerdicts = { ...clean, folder: { name: "INBOX", junk: false } };
    expect(roundTripStatus(probeRecord({ verdicts: inInbox }), THRESHOLDS)).toEqual({
      status: "OK",
      reason: "ok",
    });
  });

  it("the worse finding wins, the time's first on a tie", () => {
    const verdicts = { ...dmarcFail, spam: spam.spam };
    expect(roundTripStatus(probeRecord({ verdicts, rttMs: 200_000 }), THRESHOLDS)).toEqual({
      status: "CRITICAL",
      reason: "slow",
    });
    expect(roundTripStatus(probeRecord({ verdicts, rttMs: 40_000 }), THRESHOLDS)).toEqual({
      status: "WARNING",
      reason: "slow",
    });
    expect(roundTripStatus(probeRecord({ verdicts }), { ...THRESHOLDS, junkStatus: "CRITICAL" })).toEqual({
      status: "CRITICAL",
      reason: "spam-verdict",
    });
    expect(roundTripStatus(probeRecord({ state: "late", verdicts }), THRESHOLDS)).toEqual({
      status: "WARNING",
      reason: "late",
    });
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
    expect(roundTripThresholdsOf(global, { junkStatus: "CRITICAL" })).toEqual({
      warningMs: 30_000,
      criticalMs: 120_000,
      junkStatus: "CRITICAL",
    });
  });
});
