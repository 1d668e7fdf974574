import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { prometheusProbeSchema } from "../../../../core/config/prometheus-probe-schema.ts";
import { readPasswordFile } from "../../../../local/cli/read-password.ts";
import { checkTimeoutMs } from "../../../../local/dashboard/probe.ts";
import { probeSettingsFrom } from "../../../../local/dashboard/probe-modules.ts";
import type { Dashboard } from "../../../../local/dashboard/start-dashboard.ts";
import { makeTestPki, type TestPki } from "../../../support/certs.ts";
import { type DashboardFixture, makeDashboardFixture } from "../../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../../support/dashboard-server.ts";
import { startFakeImap } from "../../../support/fake-mail-servers.ts";
import { closedPort, type LineServer, startLineServer } from "../../../support/line-server.ts";

const TOKEN = "probe-test-token-0123456789abcdef";
let dir: string;
let pki: TestPki;
let fixture: DashboardFixture;
let imaps: LineServer;
let silent: LineServer;
let dashboard: Dashboard;
let refusedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-probe-"));
  pki = await makeTestPki();
  writeFileSync(join(dir, "ca.pem"), pki.caPem);
  writeFileSync(join(dir, "scout.password"), "s3cret\n", { mode: 0o600 });
  imaps = await startFakeImap({ implicitTls: pki.valid, user: "scout", password: "s3cret" });
  // Accepts and never greets: a check against it lasts until its deadline.
  silent = await startLineServer(() => {});
  refusedPort = await closedPort();
  fixture = await makeDashboardFixture();
  const config = prometheusProbeSchema.parse({
    maxConcurrentChecks: 1,
    modules: {
      tls: { caFile: join(dir, "ca.pem") },
      login: {
        caFile: join(dir, "ca.pem"),
        login: { user: "scout", passwordFile: join(dir, "scout.password") },
        allowedHosts: ["127.0.0.1"],
      },
      banner: { caFile: join(dir, "ca.pem"), thresholds: { expectBanner: "^\\* OK Dovecot" } },
      patient: { timeoutSeconds: 30 },
    },
  });
  dashboard = await startFixtureDashboard(fixture, {
    token: TOKEN,
    probe: probeSettingsFrom(config, { readPassword: readPasswordFile }),
  });
});
afterAll(async () => {
  await dashboard?.close();
  await imaps?.close();
  await silent?.close();
  fixture?.close();
  rmSync(dir, { recursive: true, force: true });
});

function scrape(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(`/probe?${query}`, dashboard.url), {
    headers: { Authorization: `Bearer ${TOKEN}`, ...headers },
  });
}

async function samples(query: string, headers: Record<string, string> = {}) {
  const response = await scrape(query, headers);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(text);
  const value = (name: string, labels: Record<string, string> = {}): number | undefined => {
    const sample = families
      .find((family) => family.name === name)
      ?.metrics.find((m) => Object.entries(labels).every(([key, v]) => m.labels?.[key] === v));
    return sample === undefined ? undefined : Number(sample.value);
  };
  return { text, value };
}

const target = (url: string) => `target=${encodeURIComponent(url)}`;

describe("GET /probe", () => {
  it("checks a healthy endpoint and answers with blackbox's names and Email Scout's own", async () => {
    const { value } = await samples(`${target(`imaps://127.0.0.1:${imaps.port}`)}&module=tls`);
    expect(value("probe_success")).toBe(1);
    expect(value("email_scout_probe_status")).toBe(0);
    expect(value("email_scout_probe_info", { reason: "ok", status: "OK", protocol: "imap" })).toBe(1);
    expect(value("probe_tls_version_info", { version: "TLS 1.3" })).toBe(1);
    expect(value("probe_ip_protocol")).toBe(4);
    // The test PKI's server certificate is valid for 90 days from now.
    const expiry = value("probe_ssl_earliest_cert_expiry") ?? 0;
    expect(Math.abs(expiry - (Date.now() / 1000 + 90 * 86_400))).toBeLessThan(2 * 86_400);
    expect(value("probe_duration_seconds")).toBeGreaterThan(0);
    expect(value("probe_dns_lookup_time_seconds")).toBeGreaterThanOrEqual(0);
    for (const phase of ["connect", "tls", "greeting", "capabilities", "response", "total"])
      expect(value("email_scout_probe_phase_duration_seconds", { phase }), phase).toBeGreaterThanOrEqual(0);
    expect(value("probe_failed_due_to_regex")).toBeUndefined(); // the module sets no expectBanner
  });

  it("answers 200 with probe_success 0 and the reason when the service is down", async () => {
    const { value } = await samples(`${target(`smtp://127.0.0.1:${refusedPort}`)}&module=tls`);
    expect(value("probe_success")).toBe(0);
    expect(value("email_scout_probe_status")).toBe(2);
    expect(value("email_scout_probe_info", { reason: "refused", failed_phase: "connect" })).toBe(1);
    expect(value("probe_tls_version_info", { version: "TLS 1.3" })).toBeUndefined();
  });

  it("logs in with the module's password file", async () => {
    const { value } = await samples(`${target(`imaps://127.0.0.1:${imaps.port}`)}&module=login`);
    expect(value("email_scout_probe_info", { reason: "ok" })).toBe(1);
    expect(value("email_scout_probe_phase_duration_seconds", { phase: "login" })).toBeGreaterThanOrEqual(0);
  });

  it("refuses a host outside a login module's allowedHosts, before connecting", async () => {
    const response = await scrape(`${target(`imaps://localhost:${imaps.port}`)}&module=login`);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toBe(
      'module "login" may check only 127.0.0.1 (its allowedHosts), not localhost',
    );
  });

  it("fails a greeting that does not match the module's expectBanner, as blackbox fails a regex", async () => {
    const { value } = await samples(`${target(`imaps://127.0.0.1:${imaps.port}`)}&module=banner`);
    expect(value("probe_failed_due_to_regex")).toBe(1);
    expect(value("probe_success")).toBe(0);
    expect(value("email_scout_probe_status")).toBe(1);
  });

  it("ends the check before Prometheus' scrape timeout, not the module's", async () => {
    const { value } = await samples(`${target(`smtp://127.0.0.1:${silent.port}`)}&module=patient`, {
      "X-Prometheus-Scrape-Timeout-Seconds": "2",
    });
    expect(value("email_scout_probe_info", { reason: "timeout-greeting" })).toBe(1);
    // The module allows 30 s; the scrape 2 s, less the 0.5 s margin.
    expect(value("probe_duration_seconds")).toBeGreaterThan(1);
    expect(value("probe_duration_seconds")).toBeLessThan(2);
  });

  it("answers 503 at once beyond maxConcurrentChecks", async () => {
    const connectionsBefore = silent.connections.length;
    const first = samples(`${target(`smtp://127.0.0.1:${silent.port}`)}&module=patient`, {
      "X-Prometheus-Scrape-Timeout-Seconds": "3",
    });
    await until(() => silent.connections.length > connectionsBefore);
    const second = await scrape(`${target(`imaps://127.0.0.1:${imaps.port}`)}&module=tls`);
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(((await second.json()) as { error: string }).error).toBe(
      "/probe is at its limit of 1 checks at once (dashboard.prometheusProbe.maxConcurrentChecks); the next scrape tries again, or raise the limit",
    );
    expect((await first).value("email_scout_probe_info", { reason: "timeout-greeting" })).toBe(1);
  });

  it.each([
    [
      "no target",
      "module=tls",
      400,
      "no target given: /probe?target=<endpoint URL, like smtp://mail.example.com>&module=...",
    ],
    [
      "no module",
      target("smtp://127.0.0.1"),
      400,
      "no module given; configured modules: tls, login, banner, patient",
    ],
    [
      "an unknown module",
      `${target("smtp://127.0.0.1")}&module=http_2xx`,
      400,
      'unknown module "http_2xx"; configured modules: tls, login, banner, patient',
    ],
    [
      "a web URL",
      `${target("http://127.0.0.1")}&module=tls`,
      400,
      'endpoint "http://127.0.0.1": unknown scheme "http:"; use one of smtp, submission, smtps, imap, imaps, pop3, pop3s',
    ],
    [
      "an unknown parameter",
      `${target("smtp://127.0.0.1")}&module=tls&debug=true`,
      400,
      '/probe takes target and module, not "debug"',
    ],
  ])("refuses %s", async (_name, query, status, error) => {
    const response = await scrape(query);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toBe(error);
  });

  it("refuses a scrape timeout that is not a number of seconds", async () => {
    const response = await scrape(`${target("smtp://127.0.0.1")}&module=tls`, {
      "X-Prometheus-Scrape-Timeout-Seconds": "soon",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(
      'X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds, not "soon"',
    );
  });

  it("keeps the dashboard's token rules", async () => {
    const before = silent.connections.length;
    const query = `${target(`smtp://127.0.0.1:${silent.port}`)}&module=tls`;
    const response = await fetch(new URL(`/probe?${query}`, dashboard.url));
    expect(response.status).toBe(401);
    expect(silent.connections.length).toBe(before); // refused before any check ran
  });

  it("is off without modules", async () => {
    const plain = await startFixtureDashboard(fixture);
    try {
      const response = await fetch(new URL(`/probe?${target("smtp://127.0.0.1")}&module=tls`, plain.url));
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toMatch(/dashboard\.prometheusProbe/);
    } finally {
      await plain.close();
    }
  });
});

describe("checkTimeoutMs", () => {
  it.each([
    [10_000, undefined, 10_000],
    [10_000, "10", 9_500],
    [5_000, "10", 5_000],
    [10_000, "0.6", 300],
  ])("module %i ms, scrape header %s: %i ms", (moduleMs, header, expected) => {
    expect(checkTimeoutMs(moduleMs, header)).toBe(expected);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("probeSettingsFrom", () => {
  it("reads a login module's password at start-up, and names the key when it cannot", () => {
    const config = prometheusProbeSchema.parse({
      modules: {
        mail: { login: { user: "u", passwordFile: join(dir, "missing.password") }, allowedHosts: ["mx"] },
      },
    });
    expect(() => probeSettingsFrom(config, { readPassword: readPasswordFile })).toThrow(
      /^dashboard\.prometheusProbe\.modules\.mail\.login\.passwordFile: .*missing\.password/,
    );
  });
});

describe("the README's /probe modules", () => {
  it("are a valid dashboard.prometheusProbe", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../../../README.md"), "utf8");
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((match) => match[1] as string)
      .find((text) => text.includes("prometheusProbe:"));
    const example = parse(block ?? "") as { dashboard: { prometheusProbe: unknown } };
    const parsed = prometheusProbeSchema.parse(example.dashboard.prometheusProbe);
    expect(Object.keys(parsed.modules)).toEqual(["mail", "mail-login"]);
  });
});
