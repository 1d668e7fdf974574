import { describe, expect, it } from "vitest";
import { postureCheckResult } from "../../../../core/posture/posture-check-result.ts";
import type { PostureCheckName } from "../../../../core/posture/posture-result.ts";
import { ScoutMetrics } from "../../../../lambdas/aws/scout-metrics.ts";
import { captureEmf, metricPoints } from "../../../support/emf-capture.ts";
import { checkResult } from "../../../support/probe-store-contract.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

describe("ScoutMetrics", () => {
  it("reports a posture check by Target and Check, apart from the service checks' Target and Protocol", async () => {
    const { lines } = await captureEmf(() => {
      const metrics = new ScoutMetrics("EmailScout");
      for (const [check, status] of [
        ["mx", "OK"],
        ["spf", "WARNING"],
        ["dmarc", "UNKNOWN"],
      ] as const) {
        metrics.checkCompleted(
          "mx1",
          postureCheckResult(
            {
              check: check as PostureCheckName,
              domain: "example.com",
              status,
              reason: status === "OK" ? "ok" : status === "WARNING" ? "spf-missing" : "dns-error",
              message: "",
              findings: [],
              facts: {},
              resolver: "10.0.0.2:53",
              startedAt: new Date(T0).toISOString(),
              totalMs: 20,
            },
            T0,
          ),
        );
      }
      metrics.flush();
    });
    const points = metricPoints(lines).map(({ name, dimensionSets, dimensions, value }) => [
      name,
      dimensionSets,
      dimensions,
      value,
    ]);
    const sets = [["Target", "Check"]];
    expect(points).toEqual([
      ["PostureStatus", sets, { Target: "mx1", Check: "mx" }, 0],
      ["PostureFailed", sets, { Target: "mx1", Check: "mx" }, 0],
      ["PostureStatus", sets, { Target: "mx1", Check: "spf" }, 1],
      ["PostureFailed", sets, { Target: "mx1", Check: "spf" }, 0],
      ["PostureStatus", sets, { Target: "mx1", Check: "dmarc" }, 3],
      ["PostureFailed", sets, { Target: "mx1", Check: "dmarc" }, 1],
    ]);
  });

  it("counts a delivered probe the receiver judged spam and failed DMARC, 0s for a clean one, nothing for a silent one", async () => {
    const { lines } = await captureEmf(() => {
      const metrics = new ScoutMetrics("EmailScout");
      metrics.probeCorrelated("returned", {
        targetId: "mx1",
        rttMs: 900,
        verdicts: {
          folder: { name: "Junk", junk: true },
          dmarc: { result: "fail" },
          spam: [{ filter: "microsoft", verdict: "spam", scl: 5 }],
          ignoredAuthResults: 0,
          problems: [],
        },
      });
      metrics.probeCorrelated("late", {
        targetId: "mx2",
        verdicts: { dmarc: { result: "pass" }, spam: [], ignoredAuthResults: 0, problems: [] },
      });
      metrics.probeCorrelated("returned", { targetId: "mx3", rttMs: 700 });
      metrics.probeCorrelated("returned", {
        targetId: "mx4",
        rttMs: 700,
        verdicts: { spam: [], ignoredAuthResults: 2, problems: [] },
      });
      metrics.flush();
    });
    const judged = metricPoints(lines)
      .filter(({ name }) => ["ProbeJudgedSpam", "ProbeDmarcFailed", "ProbeInJunk"].includes(name))
      .map(({ name, dimensions, value }) => [name, dimensions, value]);
    expect(judged).toEqual([
      ["ProbeJudgedSpam", { Target: "mx1" }, 1],
      ["ProbeDmarcFailed", { Target: "mx1" }, 1],
      ["ProbeInJunk", { Target: "mx1" }, 1],
      ["ProbeJudgedSpam", { Target: "mx2" }, 0],
      ["ProbeDmarcFailed", { Target: "mx2" }, 0],
    ]);
  });

  it("writes each metric with exactly the dimensions the dashboard and alarms use, and no service dimension", async () => {
    const { lines } = await captureEmf(() => {
      const metrics = new ScoutMetrics("EmailScout");
      metrics.roundTripTime("mx1", 4_200);
      metrics.probeCount("ProbeReturned", "mx1");
      metrics.probeCount("ProbeLost", "mx2", 0);
      metrics.returnRejected("token-bad-signature");
      metrics.checkResult(
        "mx1",
        checkResult("imaps://mx1.example.com", T0, {
          protocol: "imap",
          status: "CRITICAL",
          reason: "cert-expired",
          responseMs: 87,
          tls: { certificate: { daysLeft: -3 } } as never,
        }),
      );
      metrics.checkResult("mx2", checkResult("smtp://mx2.example.com", T0, { responseMs: 12 }));
      metrics.flush();
    });
    const points = metricPoints(lines).map(({ name, unit, dimensionSets, dimensions, value }) => ({
      name,
      unit,
      dimensionSets,
      dimensions,
      value,
    }));
    const mx1Imap = { Target: "mx1", Protocol: "imap" };
    const mx2Smtp = { Target: "mx2", Protocol: "smtp" };
    const expected: [string, string, Record<string, string>, number][] = [
      ["RoundTripTime", "Milliseconds", { Target: "mx1" }, 4_200],
      ["ProbeReturned", "Count", { Target: "mx1" }, 1],
      ["ProbeLost", "Count", { Target: "mx2" }, 0],
      ["ReturnRejected", "Count", { Reason: "token-bad-signature" }, 1],
      ["CheckDuration", "Milliseconds", mx1Imap, 87],
      ["CheckFailed", "Count", mx1Imap, 1],
      ["CertificateDaysLeft", "Count", mx1Imap, -3],
      ["CheckDuration", "Milliseconds", mx2Smtp, 12],
      ["CheckFailed", "Count", mx2Smtp, 0],
    ];
    // One dimension set per metric, naming exactly the dimensions it carries.
    expect(points).toEqual(
      expected.map(([name, unit, dimensions, value]) => ({
        name,
        unit,
        dimensionSets: [Object.keys(dimensions)],
        dimensions,
        value,
      })),
    );
    expect(lines.every((line) => line._aws.CloudWatchMetrics[0]?.Namespace === "EmailScout")).toBe(true);
    expect(lines.some((line) => "service" in line)).toBe(false);
  });

  it("writes nothing before flush, and nothing twice", async () => {
    const metrics = new ScoutMetrics("EmailScout");
    const before = await captureEmf(() => metrics.probeCount("ProbeLate", "mx1"));
    expect(before.lines).toEqual([]);
    const flushed = await captureEmf(() => {
      metrics.flush();
      metrics.flush();
    });
    expect(metricPoints(flushed.lines).map((p) => p.name)).toEqual(["ProbeLate"]);
  });
});
