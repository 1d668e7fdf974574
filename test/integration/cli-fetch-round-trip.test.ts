import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDist, runBuiltCli } from "../support/built-cli.ts";
import { type DemoHost, demoHost, demoRelayArgs } from "../support/demo-host.ts";

/*
 * `email-scout probe --imap/--pop3` as an operator runs it (the built CLI): the probe goes
 * through the demo host's Postfix to the probe-fetch mailbox, which has no ~/.forward, and is
 * found in Dovecot over IMAPS (IDLE) and POP3S. The demo host's Sieve rule files mail to
 * probe-fetch+junk@ into the Junk folder. The command does not DKIM-sign, and OpenDKIM, the
 * demo host's verifier, says so: dkim=none, which the text shows; rspamd, its second, finds SPF
 * passing for the From domain (the envelope's), so DMARC passes, and scores the probe ham.
 */
const _ROOT = join(import.meta.dirname, "../..");
const FETCH_USER = "probe-fetch";
let demo: DemoHost;
let keyFile: string;
let passwordFile: string;

const cli = runBuiltCli;

beforeAll(async () => {
  demo = demoHost();
  passwordFile = join(demo.dir, `${FETCH_USER}.password`);
  if (!existsSync(passwordFile))
    throw new Error(`the demo host has no ${FETCH_USER} mailbox yet; run: bash scripts/demo-mailhost.sh up`);
  await buildDist();
  keyFile = join(mkdtempSync(join(tmpdir(), "scout-cli-fetch-")), "probe.key");
  expect(await cli(["key", "new", keyFile])).toMatchObject({ code: 0 });
}, 120_000);

const fetchArgs = (to: string, mailbox: string[]) => [
  "probe",
  "--to",
  to,
  "--from",
  "monitor@scout-fetch.test",
  "--key-file",
  keyFile,
  ...demoRelayArgs(demo),
  ...mailbox,
  "--user",
  FETCH_USER,
  "--password-file",
  passwordFile,
  "--timeout",
  "60",
];

const OK_IN_INBOX =
  /^ROUNDTRIP OK - \d+\.\d{3} s(, remote clock offset -?\d+\.\d{3} s)?, landed in INBOX(, receiver: [^|\n]*)? \| rtt=\d+\.\d{3}s;30\.000;60\.000;0 junk=0;;;0;1 spam_score=-?\d+(?:\.\d+)?;15\n$/;

describe("email-scout probe in fetch mode through the demo host", () => {
  it("IMAPS with IDLE: ROUNDTRIP OK, landed in INBOX, junk=0, exit 0", async () => {
    const { code, stdout, stderr } = await cli(
      fetchArgs(`${FETCH_USER}@scout.test`, ["--imap", "imaps://127.0.0.1"]),
    );
    expect(code, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toMatch(OK_IN_INBOX);
    // The server's INTERNALDATE: IMAP has one, so the clock offset is shown.
    expect(stdout).toContain("remote clock offset");
    // The demo host's OpenDKIM and rspamd on an unsigned probe.
    expect(stdout).toMatch(
      /landed in INBOX, receiver: spf pass, dkim none, dmarc pass, ham: rspamd -?\d+(?:\.\d+)?\/15 \|/,
    );
    // Announced by IDLE: Postfix delivers in milliseconds here, the command's next look is 10 s
    // away (generous for a loaded machine, and still apart from a poll-found probe).
    const rttS = Number(/rtt=(\d+\.\d+)s/.exec(stdout)?.[1]);
    expect(rttS, stdout).toBeLessThan(9);
  });

  it("POP3S: ROUNDTRIP OK, landed in INBOX, exit 0", async () => {
    const { code, stdout, stderr } = await cli(
      fetchArgs(`${FETCH_USER}+pop@scout.test`, ["--pop3", "pop3s://127.0.0.1"]),
    );
    expect(code, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toMatch(OK_IN_INBOX);
  });

  it("a probe filed in the junk folder is WARNING, exit 1, junk=1", async () => {
    const { code, stdout, stderr } = await cli(
      fetchArgs(`${FETCH_USER}+junk@scout.test`, ["--imap", "imaps://127.0.0.1"]),
    );
    expect(code, `${stdout}${stderr}`).toBe(1);
    expect(stdout).toMatch(
      /^ROUNDTRIP WARNING - \d+\.\d{3} s(, remote clock offset -?\d+\.\d{3} s)?, landed in junk folder Junk(, receiver: [^|\n]*)? \| rtt=\d+\.\d{3}s;30\.000;60\.000;0 junk=1;;;0;1 spam_score=-?\d+(?:\.\d+)?;15\n$/,
    );
  });
});
