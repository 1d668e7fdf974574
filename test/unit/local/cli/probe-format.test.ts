import { describe, expect, it } from "vitest";
import type { ReceiverVerdicts } from "../../../../core/verdicts/receiver-verdicts.ts";
import { formatRoundTrip } from "../../../../local/cli/probe-command.ts";
import { probeRecord } from "../../../support/event-fixtures.ts";

const returned = (verdicts?: ReceiverVerdicts) => ({
  probe: probeRecord({ rttMs: 4_210, remoteClockOffsetMs: -205, ...(verdicts && { verdicts }) }),
});

describe("email-scout probe: the Nagios line of a returned probe", () => {
  it("is OK with the RTT as perfdata when the receiver said nothing", () => {
    expect(
      formatRoundTrip(returned({ spam: [], ignoredAuthResults: 0, problems: [] }), 30_000, 60_000),
    ).toEqual({
      line: "ROUNDTRIP OK - 4.210 s, remote clock offset -0.205 s | rtt=4.210s;30.000;60.000;0",
      code: 0,
    });
  });

  it("says what the receiver said, and a DMARC fail or a spam verdict is WARNING", () => {
    const verdicts = {
      authservId: "mx1.example.com",
      dmarc: { result: "fail", reason: "p=reject" },
      spam: [{ filter: "rspamd" as const, verdict: "spam" as const, score: 8.4, threshold: 15 }],
      ignoredAuthResults: 0,
      problems: ['dkim: unknown result "a|b"'],
    };
    expect(formatRoundTrip(returned(verdicts), 30_000, 60_000)).toEqual({
      line: "ROUNDTRIP WARNING - 4.210 s, remote clock offset -0.205 s, receiver: dmarc fail (p=reject), spam: rspamd 8.4/15 | rtt=4.210s;30.000;60.000;0",
      code: 1,
    });
    const passing = {
      ...verdicts,
      dmarc: { result: "pass" },
      spam: [],
      spf: { result: "pass", reason: "a|b" },
    };
    expect(formatRoundTrip(returned(passing), 30_000, 60_000).line).toBe(
      "ROUNDTRIP OK - 4.210 s, remote clock offset -0.205 s, receiver: spf pass, dmarc pass | rtt=4.210s;30.000;60.000;0",
    );
  });
});
