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

  it("fetch mode: the folder first, a spam score as perfdata, DMARC in the text only", () => {
    const verdicts = {
      folder: { name: "INBOX", junk: false },
      authservId: "mx1.example.com",
      dmarc: { result: "pass" },
      spam: [{ filter: "spamassassin" as const, verdict: "ham" as const, score: 1.2, threshold: 5 }],
      ignoredAuthResults: 0,
      problems: [],
    };
    expect(formatRoundTrip(returned(verdicts), 30_000, 60_000, { fetch: true })).toEqual({
      line: "ROUNDTRIP OK - 4.210 s, remote clock offset -0.205 s, landed in INBOX, receiver: dmarc pass, ham: spamassassin 1.2/5 | rtt=4.210s;30.000;60.000;0 junk=0;;;0;1 spam_score=1.2;5",
      code: 0,
    });
  });

  it("fetch mode: our probe found but not taken is CRITICAL lost, saying why", () => {
    const probe = probeRecord({ state: "lost", deadlineMs: 1_000_120_000, sentAtMs: 1_000_000_000 });
    expect(
      formatRoundTrip(
        { probe, leftAlone: { reason: "token too old or from the future", message: "INBOX/7" } },
        30_000,
        60_000,
        { fetch: true },
      ),
    ).toEqual({
      line: "ROUNDTRIP CRITICAL - lost: found as INBOX/7 but not taken (token too old or from the future) | rtt=U;30.000;60.000;0 junk=U;;;0;1",
      code: 2,
    });
  });
});
