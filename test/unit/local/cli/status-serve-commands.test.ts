import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import { main } from "../../../../local/cli/main.ts";
import { statusCommand } from "../../../../local/cli/status-command.ts";
import { DATABASE_FILE } from "../../../../local/serve/monitor.ts";
import { capturedIo } from "../../../support/captured-io.ts";

let dir: string;
let configFile: string;

function io() {
  const { out, io: commandIo } = capturedIo();
  return { out, commandIo };
}

function checkResult(
  endpoint: string,
  status: CheckResult["status"],
  reason: CheckResult["reason"],
): CheckResult {
  return {
    endpoint,
    kind: "smtp",
    protocol: "smtp",
    host: "mx1.example.com",
    port: 25,
    status,
    reason,
    message: "",
    problems: [],
    startedAt: new Date(Date.now() - 5_000).toISOString(),
    responseMs: 42,
    totalMs: 45,
    timings: {},
    login: "not-asked",
    thresholds: { certWarningDays: 21, certCriticalDays: 7, verifyTls: true },
    tls: {
      protocol: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      checkedName: "mx1.example.com",
      hostnameMatch: true,
      chainTrusted: true,
      certificate: {
        subject: "CN=mx1",
        subjectAltNames: [],
        issuer: "CN=CA",
        serialNumber: "01",
        fingerprintSha256: "AA",
        notBefore: new Date().toISOString(),
        notAfter: new Date().toISOString(),
        daysLeft: 42,
      },
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-status-"));
  configFile = join(dir, "scout.yaml");
  writeFileSync(
    configFile,
    [
      "dataDir: data",
      "probeKeyFile: probe.key",
      "inbound: { domain: scout-returns.example.com, returnAddress: returns@scout-returns.example.com }",
      "targets:",
      "  - id: mx1",
      '    endpoints: [{ url: "smtp://mx1.example.com" }, { url: "imaps://mx1.example.com" }]',
      "    probe: { to: probe@mx1.example.com }",
      "",
    ].join("\n"),
  );
});

describe("email-scout status", () => {
  it("says how to start the monitor when there are no results yet", async () => {
    const { out, commandIo } = io();
    expect(await statusCommand(["--config", configFile], commandIo)).toBe(1);
    expect(out.stderr).toContain(`no results yet`);
    expect(out.stderr).toContain(`email-scout serve --config ${configFile}`);
  });

  it("prints the board and RTT percentiles from the store, plain when not a TTY, and as JSON", async () => {
    const store = await SqliteStore.open(join(dir, "data", DATABASE_FILE));
    await store.saveCheckResult("mx1", checkResult("smtp://mx1.example.com", "OK", "ok"));
    await store.saveCheckResult("mx1", checkResult("imaps://mx1.example.com", "CRITICAL", "cert-expired"));
    const now = Date.now();
    for (const [index, rtt] of [300, 400, 500, 2000].entries()) {
      const probeId = `statusProbe-00000${index}`;
      await store.recordSent({
        probeId,
        targetId: "mx1",
        toAddress: "probe@mx1.example.com",
        messageId: `<${probeId}@x>`,
        sentAtMs: now - 60_000 + index,
        deadlineMs: now + 60_000,
      });
      await store.transition(
        probeId,
        ["sent"],
        "returned",
        { returnedAtMs: now - 60_000 + index + rtt, rttMs: rtt },
        now,
      );
    }
    await store.recordSent({
      probeId: "statusProbe-lost01",
      targetId: "mx1",
      toAddress: "probe@mx1.example.com",
      messageId: "<l@x>",
      sentAtMs: now - 120_000,
      deadlineMs: now - 60_000,
    });
    await store.transition("statusProbe-lost01", ["sent"], "lost", {}, now);
    await store.countRejection("token-bad-signature", "forged", now);
    store.close();

    const plain = io();
    expect(await statusCommand(["--config", configFile], plain.commandIo, false)).toBe(0);
    expect(plain.out.stdout).not.toContain("\u001b[");
    expect(plain.out.stdout).toMatch(
      /^ {2}CRITICAL imaps:\/\/mx1\.example\.com +cert-expired +not tracked yet +checked \d+ s ago +0\.042 s {3}cert 42 d$/m,
    );
    expect(plain.out.stdout).toMatch(/^ {2}OK {7}smtp:\/\/mx1\.example\.com/m);
    expect(plain.out.stdout).toContain(
      "5 probes, p50 0.400 s, p95 2.000 s, returned 4, late 0, lost 1, bounced 0",
    );
    expect(plain.out.stdout).toContain("rejected returns (24 h): token-bad-signature 1");

    const coloured = io();
    await statusCommand(["--config", configFile], coloured.commandIo, true);
    expect(coloured.out.stdout).toContain("\u001b[31mCRITICAL");

    const json = io();
    await statusCommand(["--config", configFile, "--json"], json.commandIo);
    const parsed = JSON.parse(json.out.stdout);
    expect(parsed.windowHours).toBe(24);
    expect(parsed.targets[0].roundTrip).toMatchObject({ probes: 5, p50Ms: 400, p95Ms: 2000, lost: 1 });
  });

  it("rejects a bad --hours", async () => {
    const { out, commandIo } = io();
    expect(await statusCommand(["--config", configFile, "--hours=0"], commandIo)).toBe(2);
    expect(out.stderr).toContain('--hours must be a positive number, not "0"');
    const unknown = io();
    expect(await statusCommand(["--config", configFile, "--bogus"], unknown.commandIo)).toBe(2);
    expect(unknown.out.stderr).toContain("Unknown option '--bogus'");
  });
});

describe("email-scout serve", () => {
  it("refuses to start on a bad config and names the key", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "dataDir: d\nprobeKeyFile: k\ninbound: { domain: x.example.com, returnAddress: r@x.example.com }\ntargets: [{ id: a, probe: { to: p@x.example.com } }]\nshedule: {}\n",
    );
    const { out, commandIo } = io();
    expect(await main(["serve", "--config", bad], commandIo)).toBe(2);
    expect(out.stderr).toContain("shedule: unknown key");
  });

  it("refuses to start without its probe key, saying how to make one", async () => {
    const { out, commandIo } = io();
    expect(await main(["serve", "--config", configFile], commandIo)).toBe(2);
    expect(out.stderr).toContain(`make one with: email-scout key new ${join(dir, "probe.key")}`);
  });
});
