import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { installReturn } from "../../local/return-install/return-install.ts";
import { buildDist, runBuiltCli } from "../support/built-cli.ts";
import { type DemoHost, demoHost, demoRelayArgs } from "../support/demo-host.ts";

// The built CLI as an operator runs it: key new, return install, probe (Nagios output), key add.
const ROOT = join(import.meta.dirname, "../..");
let demo: DemoHost;
let keyFile: string;

const cli = runBuiltCli;

beforeAll(async () => {
  demo = demoHost();
  await buildDist();
  keyFile = join(mkdtempSync(join(tmpdir(), "scout-cli-rt-")), "probe.key");
  const made = await cli(["key", "new", keyFile]);
  expect(made).toMatchObject({ code: 0 });
  expect((await cli(["key", "new", keyFile])).code).toBe(1); // never overwrites silently
  installReturn({
    user: "probe",
    returnTo: "returns@scout-test.test",
    keyFile,
    script: join(ROOT, "dist/email_return.cjs"),
    nodePath: process.execPath,
  });
}, 120_000);

const probeArgs = (to: string) => [
  "probe",
  "--to",
  to,
  "--return-address",
  "returns@scout-test.test",
  "--key-file",
  keyFile,
  ...demoRelayArgs(demo),
  "--listen",
  "127.0.0.1:2526",
  "--timeout",
  "60",
];

describe("email-scout probe through the demo host", () => {
  it("prints ROUNDTRIP OK with the RTT as perfdata and exits 0", async () => {
    const { code, stdout, stderr } = await cli(probeArgs("probe@scout.test"));
    expect(code, stderr).toBe(0);
    // The demo host's verifiers (OpenDKIM, rspamd) on the unsigned probe, from email_return's
    // reply: SPF passes for the return address's domain, which DMARC finds aligned; not spam.
    expect(stdout).toMatch(
      /^ROUNDTRIP OK - \d+\.\d{3} s, remote clock offset -?\d+\.\d{3} s, receiver: spf pass, dkim none, dmarc pass, ham: rspamd -?\d+(?:\.\d+)?\/15 \| rtt=\d+\.\d{3}s;30\.000;60\.000;0\n$/,
    );
  });

  it("exits 2 with the DSN diagnostic when the probe bounces", async () => {
    const { code, stdout } = await cli(probeArgs("probe-gone@scout.test"));
    expect(code).toBe(2);
    expect(stdout).toMatch(/^ROUNDTRIP CRITICAL - bounced: 5\.1\.1 .*unknown user/);
  });

  it("exits 2 send-failed when the relay refuses the recipient", async () => {
    const { code, stdout } = await cli(probeArgs("no-such-user@scout.test"));
    expect(code).toBe(2);
    expect(stdout).toMatch(/^ROUNDTRIP CRITICAL - send-failed: .*550/);
  });

  it("after a rotation (key add, install again) signs with the new key, and the probe still returns", async () => {
    const added = await cli(["key", "add", keyFile, "--id", "rotated"]);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    const listed = await cli(["key", "list", keyFile]);
    expect(listed.stdout).toMatch(/^rotated\tsigns\n\d{8}-[A-Za-z0-9_-]{4}\taccepted\n$/);
    const done = installReturn({
      user: "probe",
      returnTo: "returns@scout-test.test",
      keyFile,
      script: join(ROOT, "dist/email_return.cjs"),
      nodePath: process.execPath,
    });
    expect(done.join("\n")).toMatch(/mode 0600, keys rotated, \d{8}-/);
    const { code, stdout, stderr } = await cli(probeArgs("probe@scout.test"));
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^ROUNDTRIP OK - /);
  });

  it("exits 3 for bad options", async () => {
    const { code, stdout } = await cli(["probe", "--to", "x@y.z"]);
    expect(code).toBe(3);
    expect(stdout).toContain("ROUNDTRIP UNKNOWN - missing --return-address, --key-file");
  });
});
