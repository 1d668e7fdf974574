import { describe, expect, it } from "vitest";
import { ScoutMetrics } from "../../../lambdas/adapters/aws/scout-metrics.ts";
import { checkResult } from "../adapters/probe-store-contract.ts";
import { captureEmf, metricPoints } from "./emf-capture.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

describe("ScoutMetrics", () => {
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
    expect(points).toEqual([
      {
        name: "RoundTripTime",
        unit: "Milliseconds",
        dimensionSets: [["Target"]],
        dimensions: { Target: "mx1" },
        value: 4_200,
      },
      {
        name: "ProbeReturned",
        unit: "Count",
        dimensionSets: [["Target"]],
        dimensions: { Target: "mx1" },
        value: 1,
      },
      {
        name: "ProbeLost",
        unit: "Count",
        dimensionSets: [["Target"]],
        dimensions: { Target: "mx2" },
        value: 0,
      },
      {
        name: "ReturnRejected",
        unit: "Count",
        dimensionSets: [["Reason"]],
        dimensions: { Reason: "token-bad-signature" },
        value: 1,
      },
      ...[
        ["CheckDuration", "Milliseconds", 87],
        ["CheckFailed", "Count", 1],
        ["CertificateDaysLeft", "Count", -3],
      ].map(([name, unit, value]) => ({
        name,
        unit,
        dimensionSets: [["Target", "Protocol"]],
        dimensions: { Target: "mx1", Protocol: "imap" },
        value,
      })),
      ...[
        ["CheckDuration", "Milliseconds", 12],
        ["CheckFailed", "Count", 0],
      ].map(([name, unit, value]) => ({
        name,
        unit,
        dimensionSets: [["Target", "Protocol"]],
        dimensions: { Target: "mx2", Protocol: "smtp" },
        value,
      })),
    ]);
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
