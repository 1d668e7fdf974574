import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandIo } from "../../../../local/cli/io.ts";
import { main } from "../../../../local/cli/main.ts";
import { makeTestPki, type TestPki } from "../../../support/certs.ts";
import { closedPort, type LineServer, startLineServer } from "../../../support/line-server.ts";
import { type SmtpPeer, startSmtpPeer } from "../../../support/smtp-peer.ts";

let pki: TestPki;
let dir: string;
let caFile: string;
let peer: SmtpPeer;
let plain: LineServer;

beforeAll(async () => {
  pki = await makeTestPki();
  dir = mkdtempSync(join(tmpdir(), "scout-cli-"));
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, pki.caPem);
  writeFileSync(join(dir, "password"), "s3cret-pass\n", { mode: 0o600 });
  peer = await startSmtpPeer({
    identity: pki.valid,
    implicitTls: true,
    user: "scout",
    password: "s3cret-pass",
  });
  plain = await startLineServer((conn) => conn.line("554 5.3.2 No service | fake=1"));
});
afterAll(async () => {
  await peer.close();
  await plain.close();
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = "";
  let stderr = "";
  const io: CommandIo = { stdout: (t) => (stdout += `${t}\n`), stderr: (t) => (stderr += `${t}\n`), env };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe("email-scout check", () => {
  it("prints one Nagios line with perfdata and exits 0 when OK", async () => {
    const { code, stdout } = await run([
      "check",
      `smtps://127.0.0.1:${peer.port}`,
      "--ca-file",
      caFile,
      "-w",
      "5",
      "-c",
      "10",
    ]);
    expect(code).toBe(0);
    const [line] = stdout.split("\n");
    expect(line).toMatch(
      /^SMTPS OK - smtps:\/\/127\.0\.0\.1:\d+: \d+\.\d{3} s response, TLSv1\.3, certificate 89 days left \| /,
    );
    expect(line).toMatch(/ time=\d+\.\d{3}s;5\.000;10\.000;0 /);
    expect(line).toMatch(/ connect=\d+\.\d{3}s;;;0 tls=\d+\.\d{3}s;;;0 greeting=/);
    expect(line).toMatch(/ cert_days=89;21;7$/);
  });

  it("logs in with a password file, and --json prints the full result", async () => {
    const args = [
      "check",
      `smtps://127.0.0.1:${peer.port}`,
      "--ca-file",
      caFile,
      "--user",
      "scout",
      "--password-file",
      join(dir, "password"),
      "--json",
    ];
    const { code, stdout } = await run(args);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      status: "OK",
      login: "ok",
      authMechanism: "PLAIN",
      tls: { certificate: { daysLeft: 89 } },
    });
    expect(stdout).not.toContain("s3cret-pass");
  });

  it("--auth-mech names the mechanism, and the status line says which one logged in", async () => {
    const args = ["check", `smtps://127.0.0.1:${peer.port}`, "--ca-file", caFile, "--user", "scout"];
    const env = { EMAIL_SCOUT_PASSWORD: "s3cret-pass" };
    const chosen = await run(args, env);
    expect(chosen.stdout).toMatch(/^SMTPS OK - .*, login ok \(PLAIN\) \| /);
    const named = await run([...args, "--auth-mech", "login"], env);
    expect(named.stdout).toMatch(/^SMTPS OK - .*, login ok \(LOGIN\) \| /);
    const missing = await run([...args, "--auth-mech", "SCRAM-SHA-256"], env);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(
      /^SMTPS CRITICAL - .*auth-unavailable: SCRAM-SHA-256 was asked for, but the server offers SASL PLAIN LOGIN/,
    );
  });

  it("reads the password from EMAIL_SCOUT_PASSWORD by default", async () => {
    const args = ["check", `smtps://127.0.0.1:${peer.port}`, "--ca-file", caFile, "--user", "scout"];
    expect((await run(args, { EMAIL_SCOUT_PASSWORD: "s3cret-pass" })).code).toBe(0);
    const wrong = await run(args, { EMAIL_SCOUT_PASSWORD: "nope" });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toMatch(/^SMTPS CRITICAL - .*auth-failed: login rejected/);
    expect(wrong.stdout).toContain("server said: 535");
  });

  it("exits 2 for CRITICAL, and keeps a server's | out of the perfdata", async () => {
    const { code, stdout } = await run(["check", `smtp://127.0.0.1:${plain.port}`]);
    expect(code).toBe(2);
    expect(stdout).toMatch(
      /^SMTP CRITICAL - smtp:\/\/127\.0\.0\.1:\d+: service-unavailable: the server greets with a refusal \| time=/,
    );
    expect(stdout.split("|")).toHaveLength(2);
    expect(stdout).toContain("server said: 554 5.3.2 No service / fake=1");
  });

  it("exits 1 for WARNING", async () => {
    const { code, stdout } = await run([
      "check",
      `smtps://127.0.0.1:${peer.port}`,
      "--ca-file",
      caFile,
      "--cert-warning",
      "100",
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^SMTPS WARNING - .*cert-expiring: certificate expires in 89 days \(warning at 100\)/,
    );
  });

  it("--open-relay-test finds an open relay: exit 2, the envelope it asked, the relay test's time", async () => {
    // The peer takes any RCPT TO without login: an open relay.
    const { code, stdout } = await run([
      "check",
      `smtps://127.0.0.1:${peer.port}`,
      "--ca-file",
      caFile,
      "--open-relay-test",
      "--relay-test-to",
      "someone@elsewhere.example.org",
    ]);
    expect(code).toBe(2);
    const [line] = stdout.split("\n");
    expect(line).toMatch(
      /^SMTPS CRITICAL - smtps:\/\/127\.0\.0\.1:\d+: open-relay: the server accepted MAIL FROM:<relay-test@example\.net> RCPT TO:<someone@elsewhere\.example\.org> without login: it relays for anyone \("250 /,
    );
    expect(line).toMatch(/ relay_test=\d+\.\d{3}s;;;0 /);
  });

  it("exits 2 with the reason when nothing listens", async () => {
    const { code, stdout } = await run(["check", `pop3://127.0.0.1:${await closedPort()}`]);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^POP3 CRITICAL - .*refused: connect to 127\.0\.0\.1:\d+ failed: ECONNREFUSED/);
  });

  it.each([
    [
      ["check"],
      "CHECK UNKNOWN - config-error: give exactly one endpoint URL (got 0); see email-scout check --help",
    ],
    [["check", "smtp://h", "--bogus"], "CHECK UNKNOWN - config-error: Unknown option '--bogus'"],
    [
      ["check", "smtp://h", "-w", "fast"],
      'SMTP UNKNOWN - config-error: --warning takes seconds between 0 and 3600 (like 2 or 0.5), not "fast"',
    ],
    [
      ["check", "smtp://h", "-w", "5", "-c", "2"],
      "SMTP UNKNOWN - config-error: --warning must not exceed --critical",
    ],
    [
      ["check", "smtp://h", "--cert-warning", "1.5"],
      'SMTP UNKNOWN - config-error: --cert-warning takes whole days (0-3650), not "1.5"',
    ],
    [
      ["check", "smtp://h", "--expect-banner", "("],
      "SMTP UNKNOWN - config-error: --expect-banner is not a valid regular expression",
    ],
    [
      ["check", "smtps://h", "--starttls", "off"],
      "SMTPS UNKNOWN - config-error: --starttls does not apply to smtps:// (implicit TLS)",
    ],
    [
      ["check", "smtp://h", "--password-file", "/x"],
      "SMTP UNKNOWN - config-error: --password-file/--password-env need --user",
    ],
    [["check", "smtp://h", "--auth-mech", "PLAIN"], "SMTP UNKNOWN - config-error: --auth-mech needs --user"],
    [
      ["check", "imap://h", "--user", "u", "--auth-mech", "digest-md5"],
      "IMAP UNKNOWN - config-error: DIGEST-MD5 is obsolete (RFC 6331) and not supported; use one of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, IMAP-LOGIN",
    ],
    [
      ["check", "smtp://h", "--user", "u", "--auth-mech", "IMAP-LOGIN"],
      "SMTP UNKNOWN - config-error: IMAP-LOGIN belongs to IMAP, not SMTP; use one of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN",
    ],
    [
      ["check", "pop3://h", "--user", "u", "--auth-mech", "NTLM"],
      'POP3 UNKNOWN - config-error: unknown login mechanism "NTLM"; use one of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, POP3-USER',
    ],
    [
      ["check", "smtp://h", "--user", "u", "--password-file", "/nonexistent"],
      "SMTP UNKNOWN - config-error: password file /nonexistent does not exist",
    ],
    [
      ["check", "smtp://h", "--user", "u"],
      "SMTP UNKNOWN - config-error: environment variable EMAIL_SCOUT_PASSWORD is not set or empty",
    ],
    [["check", "smtp://h", "-4", "-6"], "SMTP UNKNOWN - config-error: -4 and -6 exclude each other"],
    [
      ["check", "smtp://h", "--ca-file", ""],
      "SMTP UNKNOWN - config-error: --ca-file needs a file path (it was empty)",
    ],
    [
      ["check", "imap://h", "--open-relay-test"],
      "IMAP UNKNOWN - config-error: --open-relay-test is for smtp, submission and smtps, not imap://",
    ],
    [
      ["check", "smtp://h", "--relay-test-to", "a@example.org"],
      "SMTP UNKNOWN - config-error: --relay-test-from/--relay-test-to need --open-relay-test",
    ],
    [
      ["check", "smtp://h", "--open-relay-test", "--relay-test-from", "a b@example.org"],
      'SMTP UNKNOWN - config-error: relay test sender "a b@example.org" must be a plain mail address like probe@example.com',
    ],
    [["check", "ftp://h"], 'FTP UNKNOWN - config-error: endpoint "ftp://h": unknown scheme "ftp:"'],
  ])("bad usage %j exits 3", async (args, message) => {
    const { code, stdout } = await run(args);
    expect(code).toBe(3);
    expect(stdout).toContain(message);
  });

  it("--help documents every option", async () => {
    const { code, stdout } = await run(["check", "--help"]);
    expect(code).toBe(0);
    for (const option of [
      "--warning",
      "--critical",
      "--cert-warning",
      "--cert-critical",
      "--expect-banner",
      "--starttls",
      "--ca-file",
      "--servername",
      "--no-verify",
      "--user",
      "--password-file",
      "--password-env",
      "--source-address",
      "--helo",
      "--open-relay-test",
      "--relay-test-from",
      "--relay-test-to",
      "--timeout",
      "--json",
      "--reasons",
    ]) {
      expect(stdout).toContain(option);
    }
  });

  it("--reasons lists every reason code", async () => {
    const { stdout } = await run(["check", "--reasons"]);
    expect(stdout).toMatch(/^timeout-greeting +CRITICAL +connected, but no complete greeting/m);
    expect(stdout).toMatch(/^cert-expiring +WARNING/m);
    expect(stdout).toMatch(/^mailbox-in-use +WARNING +valid login, but the mailbox is locked/m);
    expect(stdout).toMatch(/^open-relay +CRITICAL +the open relay test's RCPT TO/m);
    expect(stdout).toMatch(/^relay-test-inconclusive +WARNING +the open relay test got no answer/m);
  });

  it("--help says how --expect-banner meets a multi-line greeting", async () => {
    const { stdout } = await run(["check", "--help"]);
    expect(stdout).toContain("searched in every line of a multi-line greeting");
  });

  it.each([
    ["^220 ", 0, "SMTP OK"],
    [
      "^220 mx\\.example\\.com",
      1,
      'SMTP WARNING - smtp://127.0.0.1:PORT?starttls=off: banner-mismatch: no line of the greeting "220-mx.example.com ESMTP Exim 4.97',
    ],
  ])("--expect-banner %j against Exim's three-line greeting exits %i", async (pattern, exitCode, line) => {
    const exim = await startLineServer((conn) => {
      conn.write(
        "220-mx.example.com ESMTP Exim 4.97\r\n220-We do not authorize unsolicited mail,\r\n220 bulk e-mail.\r\n",
      );
      conn.onLine((command) => {
        if (/^EHLO/i.test(command)) conn.line("250 mx.example.com Hello");
        else conn.socket.end("221 bye\r\n");
      });
    });
    try {
      const url = `smtp://127.0.0.1:${exim.port}?starttls=off`;
      const { code, stdout } = await run(["check", url, "--expect-banner", pattern]);
      expect(code).toBe(exitCode);
      expect(stdout).toContain(line.replace("PORT", String(exim.port)));
    } finally {
      await exim.close();
    }
  });
});

describe("the built executable", () => {
  it("runs as a Nagios plugin", async () => {
    const root = join(import.meta.dirname, "../../../..");
    await promisify(execFile)(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root });
    const outcome = await promisify(execFile)(join(root, "dist/email-scout.mjs"), [
      "check",
      `smtps://127.0.0.1:${peer.port}`,
      "--ca-file",
      caFile,
    ]).then(
      (ok) => ({ code: 0, stdout: ok.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^SMTPS OK - /);
  });
});
