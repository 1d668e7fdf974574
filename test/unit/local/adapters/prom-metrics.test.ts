import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PromMetrics } from "../../../../local/adapters/prom-metrics.ts";
import type { Dashboard } from "../../../../local/dashboard/start-dashboard.ts";
import { type DashboardFixture, makeDashboardFixture } from "../../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../../support/dashboard-server.ts";
import { checkResult } from "../../../support/event-fixtures.ts";

/** The value of one series (labels matched exactly) of a counter family in a scrape. */
function seriesValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  const sample = family?.metrics.find(
    (metric) => JSON.stringify((metric as { labels?: unknown }).labels) === JSON.stringify(labels),
  );
  return sample === undefined ? undefined : Number((sample as { value: string }).value);
}

describe("PromMetrics: local mode's metrics observer", () => {
  it("counts what the process did, with a 0 for a target that lost no probe", async () => {
    const metrics = new PromMetrics();
    metrics.checkCompleted("mx1", checkResult({ status: "OK", responseMs: 40 }));
    metrics.probeSent("mx1", false);
    metrics.probeSent("mx1", true);
    metrics.probesLost("mx1", 0);
    metrics.probesLost("mx2", 2);
    metrics.probeCorrelated("returned", { targetId: "mx1", rttMs: 900 });
    metrics.probeCorrelated("bounced", { targetId: "mx1" });
    metrics.probeCorrelated("late", {
      targetId: "mx1",
      verdicts: {
        spf: { result: "pass" },
        dmarc: { result: "fail" },
        spam: [{ filter: "rspamd", verdict: "spam" }],
        ignoredAuthResults: 0,
        problems: [],
      },
    });
    metrics.returnRejected("token-bad-signature");
    metrics.returnRejected("token-bad-signature");
    const text = await metrics.registry.metrics();
    const outcomes = "email_scout_process_probe_outcomes_total";
    expect(
      seriesValue(text, "email_scout_process_probes_sent_total", { target: "mx1", result: "sent" }),
    ).toBe(1);
    expect(
      seriesValue(text, "email_scout_process_probes_sent_total", { target: "mx1", result: "send-failed" }),
    ).toBe(1);
    expect(seriesValue(text, outcomes, { target: "mx1", outcome: "lost" })).toBe(0);
    expect(seriesValue(text, outcomes, { target: "mx2", outcome: "lost" })).toBe(2);
    expect(seriesValue(text, outcomes, { target: "mx1", outcome: "returned" })).toBe(1);
    expect(seriesValue(text, outcomes, { target: "mx1", outcome: "bounced" })).toBe(1);
    const verdicts = "email_scout_process_probe_verdicts_total";
    expect(seriesValue(text, verdicts, { target: "mx1", check: "dmarc", result: "fail" })).toBe(1);
    expect(seriesValue(text, verdicts, { target: "mx1", check: "spf", result: "pass" })).toBe(1);
    expect(seriesValue(text, verdicts, { target: "mx1", check: "spam", result: "spam" })).toBe(1);
    expect(
      seriesValue(text, "email_scout_process_returns_rejected_total", { reason: "token-bad-signature" }),
    ).toBe(2);
    expect(text).toMatch(
      /email_scout_process_check_duration_seconds_count\{target="mx1",protocol="smtp",status="OK"\} 1/,
    );
  });

  describe("on the dashboard's /metrics", () => {
    let fixture: DashboardFixture;
    let dashboard: Dashboard;
    const metrics = new PromMetrics();
    beforeAll(async () => {
      fixture = await makeDashboardFixture();
      dashboard = await startFixtureDashboard(fixture, { processMetrics: metrics.registry });
    });
    afterAll(async () => {
      await dashboard?.close();
      fixture?.close();
    });

    it("follows the store's series, each family once", async () => {
      metrics.returnRejected("no-token");
      const text = await (await fetch(new URL("/metrics", dashboard.url))).text();
      expect(seriesValue(text, "email_scout_process_returns_rejected_total", { reason: "no-token" })).toBe(1);
      // The store's own series are still there, and no family name appears twice.
      const names = parsePrometheusTextFormat(text).map((family) => family.name);
      expect(names).toContain("email_scout_returns_rejected_total");
      expect(new Set(names).size).toBe(names.length);
    });
  });
});
