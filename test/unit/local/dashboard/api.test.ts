import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dashboard } from "../../../../local/dashboard/start-dashboard.ts";
import {
  BOUNCED_PROBE,
  type DashboardFixture,
  FIXTURE_NOW,
  FIXTURE_VERDICTS,
  LATE_PROBE,
  LOST_PROBE,
  makeDashboardFixture,
  NEWEST_PROBE,
  SEND_FAILED_PROBE,
} from "../../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../../support/dashboard-server.ts";

let fixture: DashboardFixture;
let dashboard: Dashboard;

beforeAll(async () => {
  fixture = await makeDashboardFixture();
  dashboard = await startFixtureDashboard(fixture);
});
afterAll(async () => {
  await dashboard?.close();
  fixture?.close();
});

async function get(path: string, init?: RequestInit) {
  const response = await fetch(new URL(path, dashboard.url), init);
  const text = await response.text();
  return { response, text, json: () => JSON.parse(text) };
}

describe("GET /api/status", () => {
  it("returns every configured target and endpoint with its status, reason, since, last check and days left", async () => {
    const { response, json } = await get("/api/status");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const board = json();
    expect(board.generatedAtMs).toBe(FIXTURE_NOW);
    const mx1 = board.targets.find((t: { id: string }) => t.id === "mx1");
    expect(mx1.customer).toBe("acme");
    expect(mx1.rows.map((r: { subject: string }) => r.subject)).toEqual([
      "smtp://mx1.example.com",
      "imaps://mx1.example.com",
      "pop3s://mx1.example.com:995",
      "roundtrip",
    ]);
    expect(mx1.rows[0]).toMatchObject({
      status: "OK",
      reason: "ok",
      source: "tracked",
      sinceMs: FIXTURE_NOW - 3 * 86_400_000,
      lastCheckAtMs: FIXTURE_NOW - 30_000,
      certificateDaysLeft: 80,
      protocol: "smtp",
    });
    expect(mx1.rows[1]).toMatchObject({
      status: "WARNING",
      reason: "cert-expiring",
      certificateDaysLeft: 12,
    });
    expect(mx1.rows[2]).toMatchObject({ status: "CRITICAL", reason: "refused", source: "latest" });
    expect(mx1.rows[2].certificateDaysLeft).toBeUndefined();
    expect(mx1.rows[3]).toMatchObject({
      kind: "roundtrip",
      status: "OK",
      lastProbe: { probeId: NEWEST_PROBE, state: "returned", rttMs: 2000 },
    });
    expect(mx1.roundTrip).toEqual({
      probes: 24,
      p50Ms: 3000,
      p95Ms: 4000,
      returned: 20,
      late: 1,
      lost: 1,
      bounced: 1,
      sendFailed: 1,
    });
    const mx2 = board.targets.find((t: { id: string }) => t.id === "mx2");
    expect(mx2.rows).toEqual([
      {
        subject: "submission://mx2.example.com",
        kind: "endpoint",
        status: "UNKNOWN",
        reason: "no-check-yet",
        source: "latest",
      },
      {
        subject: "roundtrip",
        kind: "roundtrip",
        status: "UNKNOWN",
        reason: "no-probe-yet",
        source: "latest",
      },
    ]);
    expect(board.rejections).toEqual({ "token-bad-signature": 2, "unknown-probe": 1 });
  });

  it("sends the security headers and no-store", async () => {
    const { response } = await get("/api/status");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("rejects an unknown parameter by name", async () => {
    const { response, json } = await get("/api/status?colour=red");
    expect(response.status).toBe(400);
    expect(json()).toEqual({ error: "colour: unknown parameter" });
  });
});

describe("GET /api/targets", () => {
  it("lists the targets, their endpoints and whether they probe", async () => {
    const { json } = await get("/api/targets");
    expect(json().targets).toEqual([
      {
        id: "mx1",
        customer: "acme",
        endpoints: ["smtp://mx1.example.com", "imaps://mx1.example.com", "pop3s://mx1.example.com:995"],
        roundTrip: true,
      },
      { id: "mx2", endpoints: ["submission://mx2.example.com"], roundTrip: true },
    ]);
  });
});

describe("GET /api/targets/:id/roundtrip", () => {
  it("buckets the last hour with p50/p95 and marks lost, late, bounced and send-failed probes", async () => {
    const { response, json } = await get("/api/targets/mx1/roundtrip?range=1h");
    expect(response.status).toBe(200);
    const series = json();
    expect(series).toMatchObject({ targetId: "mx1", range: "1h", bucketMs: 120_000, untilMs: FIXTURE_NOW });
    expect(series.buckets).toHaveLength(30);
    const counted = series.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0);
    expect(counted).toBe(20);
    const newest = series.buckets.find((b: { startMs: number }) => b.startMs === FIXTURE_NOW - 2 * 60_000);
    expect(newest).toEqual({ startMs: FIXTURE_NOW - 2 * 60_000, count: 1, p50Ms: 2000, p95Ms: 2000 });
    expect(series.marks).toEqual([
      { probeId: LOST_PROBE, state: "lost", sentAtMs: FIXTURE_NOW - 44 * 60_000, valueMs: 300_000 },
      { probeId: LATE_PROBE, state: "late", sentAtMs: FIXTURE_NOW - 33 * 60_000, valueMs: 420_000 },
      { probeId: BOUNCED_PROBE, state: "bounced", sentAtMs: FIXTURE_NOW - 22 * 60_000, valueMs: 20_000 },
      { probeId: SEND_FAILED_PROBE, state: "send-failed", sentAtMs: FIXTURE_NOW - 11 * 60_000, valueMs: 0 },
    ]);
    expect(series.recent[0]).toEqual({
      probeId: NEWEST_PROBE,
      state: "returned",
      sentAtMs: FIXTURE_NOW - 90_000,
      rttMs: 2000,
    });
    expect(series.summary).toMatchObject({ p50Ms: 3000, p95Ms: 4000, returned: 20 });
  });

  it("defaults to the last hour and offers a day and a week", async () => {
    expect((await get("/api/targets/mx1/roundtrip")).json().range).toBe("1h");
    expect((await get("/api/targets/mx1/roundtrip?range=24h")).json().buckets).toHaveLength(48);
    expect((await get("/api/targets/mx1/roundtrip?range=7d")).json().buckets).toHaveLength(56);
  });

  it("answers 400 naming a bad range and 404 for an unknown target", async () => {
    const bad = await get("/api/targets/mx1/roundtrip?range=2h");
    expect(bad.response.status).toBe(400);
    expect(bad.json()).toEqual({ error: "range: must be one of 1h, 24h, 7d" });
    const twice = await get("/api/targets/mx1/roundtrip?range=1h&range=7d");
    expect(twice.response.status).toBe(400);
    expect(twice.json().error).toBe("range: given 2 times, give it once");
    const unknown = await get("/api/targets/nope/roundtrip");
    expect(unknown.response.status).toBe(404);
    expect(unknown.json()).toEqual({ error: 'unknown target "nope"; known targets: mx1, mx2' });
    const malformed = await get("/api/targets/%2E%2E%20x/roundtrip");
    expect(malformed.response.status).toBe(400);
    expect(malformed.json().error).toMatch(/^target: must be a target id/);
  });
});

describe("GET /api/targets/:id/checks", () => {
  it("returns the response-time series of every endpoint, by protocol", async () => {
    const { json } = await get("/api/targets/mx1/checks?range=1h");
    const series = json();
    expect(
      series.endpoints.map((e: { endpoint: string; protocol: string }) => [e.endpoint, e.protocol]),
    ).toEqual([
      ["smtp://mx1.example.com", "smtp"],
      ["imaps://mx1.example.com", "imap"],
      ["pop3s://mx1.example.com:995", "pop3"],
    ]);
    const imap = series.endpoints[1];
    expect(imap.buckets).toHaveLength(30);
    // One check per 2-minute bucket, every one 60 ms; the bucket the range begins before is empty.
    const filled = imap.buckets.filter((b: { count: number }) => b.count > 0);
    expect(filled.length).toBeGreaterThanOrEqual(29);
    for (const bucket of filled) expect(bucket).toMatchObject({ p50Ms: 60, maxMs: 60, worst: "WARNING" });
  });

  it("narrows to one endpoint, and 404s for an endpoint the target does not have", async () => {
    const one = await get(`/api/targets/mx1/checks?endpoint=${encodeURIComponent("smtp://mx1.example.com")}`);
    expect(one.json().endpoints).toHaveLength(1);
    const missing = await get("/api/targets/mx1/checks?endpoint=smtp%3A%2F%2Fother.example.com");
    expect(missing.response.status).toBe(404);
    expect(missing.json().error).toContain('target "mx1" has no endpoint "smtp://other.example.com"');
    const bad = await get("/api/targets/mx1/checks?range=forever");
    expect(bad.response.status).toBe(400);
    expect(bad.json().error).toBe("range: must be one of 1h, 24h, 7d");
  });
});

describe("GET /api/probes/:probeId", () => {
  it("returns the probe's detail: hops, remote clock offset, the receiver's verdicts", async () => {
    const { json } = await get(`/api/probes/${NEWEST_PROBE}`);
    const { probe } = json();
    expect(probe).toMatchObject({ probeId: NEWEST_PROBE, targetId: "mx1", state: "returned", rttMs: 2000 });
    expect(probe.remoteClockOffsetMs).toBe(1500);
    expect(probe.hops).toHaveLength(2);
    expect(probe.verdicts).toEqual(FIXTURE_VERDICTS);
  });

  it("returns bounce diagnostics and send errors", async () => {
    expect((await get(`/api/probes/${BOUNCED_PROBE}`)).json().probe.bounce.status).toBe("5.1.1");
    expect((await get(`/api/probes/${SEND_FAILED_PROBE}`)).json().probe.error).toContain("ECONNREFUSED");
  });

  it("answers 404 for an unknown probe and 400 for a malformed id", async () => {
    const unknown = await get("/api/probes/AAAAAAAAAAAAAAAAAAAA");
    expect(unknown.response.status).toBe(404);
    expect(unknown.json().error).toContain('unknown probe "AAAAAAAAAAAAAAAAAAAA"');
    const malformed = await get("/api/probes/short");
    expect(malformed.response.status).toBe(400);
    expect(malformed.json().error).toMatch(/^probeId: must be a probe id/);
  });
});

describe("the server", () => {
  it("answers GET /api/health", async () => {
    const { json } = await get("/api/health");
    expect(json()).toEqual({ ok: true, nowMs: FIXTURE_NOW, targets: 2 });
  });

  it("refuses every method but GET and HEAD with 405", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const { response, json } = await get("/api/status", { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
      expect(json().error).toContain(`method ${method} not allowed`);
    }
  });

  it("answers HEAD with headers only", async () => {
    const { response, text } = await get("/api/status", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(text).toBe("");
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(100);
  });

  it("serves the page and its files, and 404s the rest", async () => {
    const page = await get("/");
    expect(page.response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.text).toContain('<script src="/static/dashboard.js" defer></script>');
    expect(page.text).not.toMatch(/<script>|<style>|style="/);
    for (const path of [
      "/static/dashboard.js",
      "/static/dashboard.css",
      "/static/uPlot.iife.min.js",
      "/static/uPlot.min.css",
    ]) {
      expect((await get(path)).response.status, path).toBe(200);
    }
    const missing = await get("/static/../../etc/passwd");
    expect(missing.response.status).toBe(404);
    expect((await get("/api/nothing")).response.status).toBe(404);
  });

  it("refuses a very long URL", async () => {
    const { response } = await get(`/api/status?x=${"a".repeat(3000)}`);
    expect(response.status).toBe(414);
  });
});
