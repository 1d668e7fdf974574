import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../../../core/checks/result.ts";
import type { Clock } from "../../../../core/ports/clock.ts";
import { postureCheckResult } from "../../../../core/posture/posture-check-result.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import { statusCommand } from "../../../../local/cli/status-command.ts";
import { DATABASE_FILE } from "../../../../local/serve/monitor.ts";
import { capturedIo } from "../../../support/captured-io.ts";

/*
 * `status --nagios TARGET/SUBJECT`: plugin output from the store serve keeps, no network check.
 */

const CHECKED_AT_MS = Date.parse("2026-12-01T12:00:00Z");
let dir: string;
let configFile: string;

function writeConfig(path: string, dataDir: string) {
  writeFileSync(
    path,
    [
      `dataDir: ${dataDir}`,
      "probeKeyFile: probe.key",
      "schedule: { intervalSeconds: 60 }",
      "inbound: { domain: scout-returns.example.com, returnAddress: returns@scout-returns.example.com }",
      "targets:",
      "  - id: mx1",
      '    endpoints: [{ url: "smtp://mx1.example.com" }, { url: "imaps://mx1.example.com" }]',
      "  - id: dns1",
      "    domain: example.com",
      "posture: { intervalSeconds: 3600 }",
      "",
    ].join("\n"),
  );
}

function result(endpoint: string, status: CheckResult["status"], reason: CheckResult["reason"]): CheckResult {
  return {
    endpoint,
    kind: endpoint.startsWith("smtp") ? "smtp" : "imaps",
    protocol: endpoint.startsWith("smtp") ? "smtp" : "imap",
    host: "mx1.example.com",
    port: 25,
    status,
    reason,
    message: reason,
    problems: [],
    startedAt: new Date(CHECKED_AT_MS).toISOString(),
    responseMs: 42,
    totalMs: 45,
    timings: {},
    login: "not-asked",
    thresholds: { certWarningDays: 21, certCriticalDays: 7, verifyTls: true },
  } as CheckResult;
}

async function status(args: string[], nowMs: number) {
  const { out, io } = capturedIo();
  const clock: Clock = { now: () => nowMs };
  const code = await statusCommand(args, io, false, clock);
  return { code, ...out };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-status-nagios-"));
  configFile = join(dir, "scout.yaml");
  writeConfig(configFile, "data");
  const store = await SqliteStore.open(join(dir, "data", DATABASE_FILE));
  await store.saveCheckResult("mx1", result("smtp://mx1.example.com", "OK", "ok"));
  await store.saveCheckResult("mx1", result("imaps://mx1.example.com", "CRITICAL", "cert-expired"));
  await store.saveCheckResult(
    "dns1",
    postureCheckResult(
      {
        check: "spf",
        domain: "example.com",
        status: "WARNING",
        reason: "spf-missing",
        message: "no v=spf1 record",
        findings: [],
        facts: {},
        resolver: "127.0.0.1:53",
        startedAt: new Date(CHECKED_AT_MS).toISOString(),
        totalMs: 12,
      },
      CHECKED_AT_MS,
    ),
  );
  store.close();
});

describe("email-scout status --nagios", () => {
  it("prints a fresh endpoint's status as a plugin line with perfdata and its exit code", async () => {
    const ok = await status(
      ["--config", configFile, "--nagios", "mx1/smtp://mx1.example.com"],
      CHECKED_AT_MS + 30_000,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^SMTP OK - mx1\/smtp:\/\/mx1\.example\.com: ok \| time=0\.042s;;;0\n$/);
    const critical = await status(
      ["--config", configFile, "--nagios", "mx1/imaps://mx1.example.com"],
      CHECKED_AT_MS + 30_000,
    );
    expect(critical.code).toBe(2);
    expect(critical.stdout).toMatch(/^IMAP CRITICAL - mx1\/imaps:\/\/mx1\.example\.com: cert-expired/);
  });

  it("is UNKNOWN when the last result is older than three intervals: serve may be down", async () => {
    const stale = await status(
      ["--config", configFile, "--nagios", "mx1/smtp://mx1.example.com"],
      CHECKED_AT_MS + 3 * 60_000 + 1_000,
    );
    expect(stale.code).toBe(3);
    expect(stale.stdout).toContain("SMTP UNKNOWN - mx1/smtp://mx1.example.com: the last result is 181 s old");
    expect(stale.stdout).toContain("is email-scout serve running?");
  });

  it("gives a posture check as POSTURE, fresh for the posture interval and two cycles", async () => {
    const fresh = await status(
      ["--config", configFile, "--nagios", "dns1/posture:spf"],
      CHECKED_AT_MS + 3600_000 + 2 * 60_000,
    );
    expect(fresh.code).toBe(1);
    expect(fresh.stdout).toMatch(/^POSTURE WARNING - dns1\/posture:spf: spf-missing \| time=0\.012s;;;0\n$/);
    const stale = await status(
      ["--config", configFile, "--nagios", "dns1/posture:spf"],
      CHECKED_AT_MS + 3600_000 + 2 * 60_000 + 1_000,
    );
    expect(stale.code).toBe(3);
    expect(stale.stdout).toContain("POSTURE UNKNOWN - dns1/posture:spf: the last result is 3721 s old");
  });

  it("names the subjects there are when the one asked for is not", async () => {
    const missing = await status(
      ["--config", configFile, "--nagios", "mx1/pop3://mx1.example.com"],
      CHECKED_AT_MS,
    );
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain("mx1/smtp://mx1.example.com, mx1/imaps://mx1.example.com");
    const noTarget = await status(["--config", configFile, "--nagios", "mx9/roundtrip"], CHECKED_AT_MS);
    expect(noTarget.stdout).toContain('no target "mx9"; targets: mx1, dns1');
  });

  it("is UNKNOWN on stdout when serve has not made its database yet", async () => {
    const other = join(dir, "other.yaml");
    writeConfig(other, "empty");
    const none = await status(["--config", other, "--nagios", "mx1/smtp://mx1.example.com"], CHECKED_AT_MS);
    expect(none.code).toBe(3);
    expect(none.stdout).toMatch(/^EMAIL-SCOUT UNKNOWN - no results yet/);
  });
});
