import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/*
 * The shipped systemd unit (docs/systemd/) as scripts/install-systemd.sh installs it, checked
 * by systemd's own tools: `systemd-analyze verify` (every directive known, the executable
 * there) and `systemd-analyze security --offline` (the hardening holds).
 */

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../../..");
const stage = mkdtempSync(join(tmpdir(), "scout-systemd-"));
afterAll(() => rmSync(stage, { recursive: true, force: true }));

async function install(...args: string[]) {
  // A stand-in executable: verify insists that ExecStart names one.
  const bin = join(stage, "email-scout");
  writeFileSync(bin, "#!/bin/sh\nexit 0\n");
  chmodSync(bin, 0o755);
  const root = mkdtempSync(join(stage, "root-"));
  const { stdout } = await run("bash", [
    join(repo, "scripts/install-systemd.sh"),
    "--root",
    root,
    "--bin",
    bin,
    "--config",
    "/etc/email-scout/scout.yaml",
    ...args,
  ]);
  return { root, unit: join(root, "etc/systemd/system/email-scout.service"), stdout, bin };
}

async function verify(unit: string) {
  // Unknown directives are only warnings (exit 0): any output at all is a finding.
  const { stdout, stderr } = await run("systemd-analyze", ["verify", unit]).catch(
    (error: { stdout: string; stderr: string }) => ({
      stdout: error.stdout,
      stderr: `${error.stderr} (failed)`,
    }),
  );
  return `${stdout}${stderr}`.trim();
}

describe("the systemd unit for serve", () => {
  it("installs with serve's command line and verifies without a word from systemd-analyze", async () => {
    const { unit, stdout, bin } = await install();
    expect(stdout).toContain("systemctl daemon-reload && systemctl enable --now email-scout");
    const text = readFileSync(unit, "utf8");
    expect(text).toContain(`ExecStart=${bin} serve --config /etc/email-scout/scout.yaml`);
    expect(await verify(unit)).toBe("");
  });

  it("is hardened: own user, read-only system but the data dir, no new privileges, no capabilities", async () => {
    const { unit } = await install();
    const text = readFileSync(unit, "utf8");
    for (const line of [
      "User=email-scout",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/email-scout",
      "NoNewPrivileges=yes",
      "CapabilityBoundingSet=\n",
      "AmbientCapabilities=\n",
    ]) {
      expect(text).toContain(line);
    }
    // Exposure 0 (best) .. 10; systemd itself calls up to 2 "OK".
    const { stdout } = await run("systemd-analyze", ["security", "--offline=yes", "--threshold=20", unit]);
    const exposure = Number(/Overall exposure level for \S+: (\d+\.\d+)/.exec(stdout)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2);
  });

  it("grants CAP_NET_BIND_SERVICE, and only it, when the listener needs port 25", async () => {
    const { root, unit } = await install("--low-port");
    const dropIn = readFileSync(join(root, "etc/systemd/system/email-scout.service.d/port-25.conf"), "utf8");
    expect(dropIn).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(dropIn).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(await verify(unit)).toBe("");
  });

  it("refuses relative paths and unknown options with exit 2 and the reason", async () => {
    const failed = await run("bash", [
      join(repo, "scripts/install-systemd.sh"),
      "--root",
      stage,
      "--config",
      "scout.yaml",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain("scout.yaml: give an absolute path");
  });
});
