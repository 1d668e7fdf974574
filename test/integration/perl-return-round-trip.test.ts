import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installReturn } from "../../local/return-install/return-install.ts";
import { buildDist, runBuiltCli } from "../support/built-cli.ts";
import { type DemoHost, demoHost, demoRelayArgs } from "../support/demo-host.ts";

// The Perl email_return through the real Postfix: installed by the built CLI's `return install`
// (its default runtime), answering `email-scout probe`, whose return is measured and verified.
const ROOT = join(import.meta.dirname, "../..");
const RETURN_TO = "returns@scout-test.test";
let demo: DemoHost;
let keyFile: string;

const cli = runBuiltCli;

beforeAll(async () => {
  demo = demoHost();
  await buildDist();
  keyFile = join(mkdtempSync(join(tmpdir(), "scout-perl-rt-")), "probe.key");
  expect(await cli(["key", "new", keyFile])).toMatchObject({ code: 0 });
}, 120_000);

// The other round-trip tests install the Node script for themselves; leave it as they expect.
afterAll(() => {
  installReturn({
    user: "probe",
    returnTo: RETURN_TO,
    keyFile,
    script: join(ROOT, "dist/email_return.cjs"),
    nodePath: process.execPath,
  });
});

describe("email_return.pl through the demo host's Postfix", () => {
  it("return install picks the Perl runtime by default and its self-test passes", async () => {
    const installed = await cli([
      "return",
      "install",
      "--user",
      "probe",
      "--return-to",
      RETURN_TO,
      "--key-file",
      keyFile,
      "--log",
    ]);
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    expect(installed.stdout).toContain("self-test passed");
    expect(readFileSync("/home/probe/.forward", "utf8")).toBe(
      '"|/home/probe/.email-scout/email_return.pl --config /home/probe/.email-scout/return.json"\n',
    );
  });

  it("answers a probe, which returns measured and verified (ROUNDTRIP OK)", async () => {
    const logPath = "/home/probe/.email-scout/return.log";
    const logBefore = existsSync(logPath) ? readFileSync(logPath, "utf8").length : 0;
    const { code, stdout, stderr } = await cli([
      "probe",
      "--to",
      "probe@scout.test",
      "--return-address",
      RETURN_TO,
      "--key-file",
      keyFile,
      ...demoRelayArgs(demo),
      "--listen",
      "127.0.0.1:2526",
      "--timeout",
      "60",
    ]);
    expect(code, `${stdout}${stderr}`).toBe(0);
    // The header block email_return.pl reports carries the demo host's verdicts (OpenDKIM, rspamd).
    expect(stdout).toMatch(
      /^ROUNDTRIP OK - \d+\.\d{3} s, remote clock offset -?\d+\.\d{3} s, receiver: spf pass, dkim none, dmarc pass, ham: rspamd -?\d+(?:\.\d+)?\/15 \| rtt=/,
    );
    // Only the Perl script is installed (install removed email_return.cjs): it wrote this line.
    expect(existsSync("/home/probe/.email-scout/email_return.cjs")).toBe(false);
    const log = readFileSync(logPath, "utf8").slice(logBefore);
    expect(log).toMatch(/ replied reason=valid-probe probe=[A-Za-z0-9_-]{16,32} /);
  });

  it("--runtime node installs the Node script again, and perl rejects --node", async () => {
    const wrong = await cli([
      "return",
      "install",
      "--user",
      "probe",
      "--return-to",
      RETURN_TO,
      "--key-file",
      keyFile,
      "--node",
      "/usr/bin/node",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("--node goes with --runtime node");
    const node = await cli([
      "return",
      "install",
      "--runtime",
      "node",
      "--node",
      process.execPath,
      "--user",
      "probe",
      "--return-to",
      RETURN_TO,
      "--key-file",
      keyFile,
    ]);
    expect(node, node.stderr).toMatchObject({ code: 0 });
    expect(readFileSync("/home/probe/.forward", "utf8")).toContain(
      `|${process.execPath} /home/probe/.email-scout/email_return.cjs`,
    );
  });
});
