import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dashboard } from "../../../../local/dashboard/start-dashboard.ts";
import {
  type DashboardFixture,
  FIXTURE_NOW,
  makeDashboardFixture,
} from "../../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../../support/dashboard-server.ts";

let fixture: DashboardFixture;
let dashboard: Dashboard;
let families: ReturnType<typeof parsePrometheusTextFormat>;
let contentType: string | null;
let text: string;

beforeAll(async () => {
  fixture = await makeDashboardFixture();
  dashboard = await startFixtureDashboard(fixture);
  const response = await fetch(new URL("/metrics", dashboard.url));
  contentType = response.headers.get("content-type");
  text = await response.text();
  families = parsePrometheusTextFormat(text);
});
afterAll(async () => {
  await dashboard?.close();
  fixture?.close();
});

function family(name: string) {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} in /metrics; have ${families.map((f) => f.name).join(", ")}`);
  return found;
}

/**
 * One target's series of a histogram. The parser folds a histogram family into a single
 * sample, so it only reads unlabelled histograms right: hand it one target's lines, label removed.
 */
function histogramOf(name: string, target: string) {
  const label = new RegExp(`(\\{|,)target="${target}"(,|\\})`);
  const lines = text
    .split("\n")
    .filter(
      (line) =>
        line.startsWith(`# HELP ${name} `) ||
        line.startsWith(`# TYPE ${name} `) ||
        (line.startsWith(name) && label.test(line)),
    )
    .map((line) =>
      line.replace(label, (_all, open: string, close: string) =>
        open === "{" && close === "}" ? "" : open === "{" ? "{" : close,
      ),
    );
  const [parsed] = parsePrometheusTextFormat(`${lines.join("\n")}\n`);
  return parsed?.metrics[0];
}

function value(name: string, labels: Record<string, string>): number {
  const sample = family(name).metrics.find((m) =>
    Object.entries(labels).every(([key, v]) => m.labels?.[key] === v),
  );
  if (!sample) throw new Error(`no ${name} sample with ${JSON.stringify(labels)}`);
  return Number(sample.value);
}

describe("GET /metrics", () => {
  it("speaks the Prometheus text format", () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("has a round-trip histogram per target over returned and late probes", () => {
    const histogram = family("email_scout_roundtrip_seconds");
    expect(histogram.type).toBe("HISTOGRAM");
    expect(text).toMatch(/^email_scout_roundtrip_seconds_count\{target="mx1"\} 21$/m);
    const mx1 = histogramOf("email_scout_roundtrip_seconds", "mx1");
    // 20 returned (4 each of 2.0, 2.5, 3.0, 3.5, 4.0 s) and one late at 420 s.
    expect(Number(mx1?.count)).toBe(21);
    expect(Number(mx1?.sum)).toBeCloseTo(4 * (2 + 2.5 + 3 + 3.5 + 4) + 420, 6);
    expect(Number(mx1?.buckets?.["2"])).toBe(4);
    expect(Number(mx1?.buckets?.["5"])).toBe(20);
    expect(Number(mx1?.buckets?.["300"])).toBe(20);
    expect(Number(mx1?.buckets?.["600"])).toBe(21);
  });

  it("counts probes by outcome, a late probe under lost too", () => {
    expect(family("email_scout_probes_total").type).toBe("COUNTER");
    expect(value("email_scout_probes_total", { target: "mx1", state: "returned" })).toBe(20);
    expect(value("email_scout_probes_total", { target: "mx1", state: "late" })).toBe(1);
    expect(value("email_scout_probes_total", { target: "mx1", state: "lost" })).toBe(2);
    expect(value("email_scout_probes_total", { target: "mx1", state: "bounced" })).toBe(1);
    expect(value("email_scout_probes_total", { target: "mx1", state: "send-failed" })).toBe(1);
  });

  it("counts rejected returns by reason", () => {
    expect(value("email_scout_returns_rejected_total", { reason: "token-bad-signature" })).toBe(2);
    expect(value("email_scout_returns_rejected_total", { reason: "unknown-probe" })).toBe(1);
  });

  it("gives every subject's status as 0-3", () => {
    expect(value("email_scout_status", { target: "mx1", subject: "smtp://mx1.example.com" })).toBe(0);
    expect(value("email_scout_status", { target: "mx1", subject: "imaps://mx1.example.com" })).toBe(1);
    expect(value("email_scout_status", { target: "mx1", subject: "pop3s://mx1.example.com:995" })).toBe(2);
    expect(value("email_scout_status", { target: "mx2", subject: "roundtrip" })).toBe(3);
  });

  it("gives the receiver's verdicts on the newest delivered probe, and whether it judged it spam", () => {
    for (const check of ["spf", "dkim", "dmarc"]) {
      expect(value("email_scout_roundtrip_verdict", { target: "mx1", check, result: "pass" })).toBe(1);
    }
    expect(value("email_scout_roundtrip_verdict", { target: "mx1", check: "spam", result: "ham" })).toBe(1);
    expect(value("email_scout_roundtrip_judged_spam", { target: "mx1" })).toBe(0);
    // mx2's receiver has said nothing: no series rather than a made-up one.
    expect(family("email_scout_roundtrip_verdict").metrics.some((m) => m.labels?.target === "mx2")).toBe(
      false,
    );
  });

  it("gives each phase of the latest check, and the certificate's time left", () => {
    const smtp = { target: "mx1", endpoint: "smtp://mx1.example.com", protocol: "smtp" };
    // The newest smtp check (cycle 0) took 40 ms; its greeting phase 35 ms.
    expect(value("email_scout_check_duration_seconds", { ...smtp, phase: "response" })).toBeCloseTo(0.04, 9);
    expect(value("email_scout_check_duration_seconds", { ...smtp, phase: "greeting" })).toBeCloseTo(0.035, 9);
    expect(value("email_scout_check_duration_seconds", { ...smtp, phase: "total" })).toBeCloseTo(0.05, 9);
    expect(
      value("email_scout_certificate_days_left", { target: "mx1", endpoint: "imaps://mx1.example.com" }),
    ).toBe(12);
    // notAfter is 12 days and 1 hour after the check, which started 30 s before "now".
    expect(
      value("email_scout_certificate_expiry_seconds", { target: "mx1", endpoint: "imaps://mx1.example.com" }),
    ).toBe(12 * 86_400 + 3600 - 30);
    expect(
      family("email_scout_certificate_days_left").metrics.some((m) =>
        m.labels?.endpoint?.startsWith("pop3s"),
      ),
    ).toBe(false);
    expect(FIXTURE_NOW).toBeGreaterThan(0);
  });
});
