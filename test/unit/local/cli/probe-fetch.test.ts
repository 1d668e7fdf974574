import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { formatProbeKeyRing, newProbeKey, type ProbeKeyRing } from "../../../../core/wire/probe-key.ts";
import { formatRoundTrip, probeCommand } from "../../../../local/cli/probe-command.ts";
import { oneFetchRoundTrip } from "../../../../local/serve/one-fetch-round-trip.ts";
import { capturedIo } from "../../../support/captured-io.ts";
import { MemoryMailbox } from "../../../support/memory-mailbox.ts";
import { Pop3TestServer } from "../../../support/pop3-server.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

/*
 * `email-scout probe --pop3/--imap`: the probe goes through a real SMTP relay on port 0, which
 * files it in a real POP3 server's maildrop on port 0, where the command finds it.
 */

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An SMTP relay on 127.0.0.1:0 that delivers every message to `deliver` (or drops it). */
async function relayInto(deliver: (raw: Buffer) => void): Promise<number> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    closeTimeout: 50,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        deliver(Buffer.concat(chunks));
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.server.address() as AddressInfo).port;
}

async function setup(options: { drop?: boolean } = {}) {
  const pop3 = await Pop3TestServer.start({ user: "probe", password: "pop-secret" });
  closers.push(() => pop3.close());
  const relayPort = await relayInto((raw) => {
    if (!options.drop) pop3.deliver(raw);
  });
  const dir = mkdtempSync(join(tmpdir(), "probe-fetch-"));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
  const args = (...more: string[]) => [
    "--to",
    "probe@example.test",
    "--from",
    "monitor@scout.test",
    "--key-file",
    keyFile,
    "--relay",
    `127.0.0.1:${relayPort}`,
    "--relay-tls",
    "none",
    "--user",
    "probe",
    "--password-env",
    "PROBE_PW",
    ...more,
  ];
  return { pop3, args, env: { PROBE_PW: "pop-secret" } };
}

describe("email-scout probe in fetch mode (POP3)", () => {
  it("finds the probe in the mailbox, prints OK with the folder and junk=0, and deletes it", async () => {
    const { pop3, args, env } = await setup();
    const { out, io } = capturedIo(env);
    const code = await probeCommand(args("--pop3", pop3.url, "--timeout", "30"), io);
    expect(out.stdout, out.stderr).toMatch(
      /^ROUNDTRIP OK - \d+\.\d{3} s, landed in INBOX \| rtt=\d+\.\d{3}s;30\.000;60\.000;0 junk=0;;;0;1\n$/,
    );
    expect(code).toBe(0);
    expect(pop3.maildrop).toHaveLength(0);
    expect(pop3.commands.some((command) => command.startsWith("DELE "))).toBe(true);
  });

  it("--keep leaves the probe in the mailbox", async () => {
    const { pop3, args, env } = await setup();
    const { out, io } = capturedIo(env);
    expect(await probeCommand(args("--pop3", pop3.url, "--keep", "--timeout", "30"), io)).toBe(0);
    expect(out.stdout).toMatch(/^ROUNDTRIP OK /);
    expect(pop3.maildrop).toHaveLength(1);
    expect(pop3.maildrop[0]?.raw).toMatch(/^X-Scout-Probe: /m);
    expect(pop3.commands.some((command) => command.startsWith("DELE "))).toBe(false);
  });

  it("a probe that never arrives is CRITICAL lost at --timeout, junk=U", async () => {
    const { pop3, args, env } = await setup({ drop: true });
    const { out, io } = capturedIo(env);
    expect(await probeCommand(args("--pop3", pop3.url, "--timeout", "1"), io)).toBe(2);
    expect(out.stdout).toBe(
      "ROUNDTRIP CRITICAL - lost: not in the mailbox within 1 s | rtt=U;30.000;60.000;0 junk=U;;;0;1\n",
    );
  });

  it("a wrong password is UNKNOWN, and no probe is sent", async () => {
    const { pop3, args } = await setup();
    const { out, io } = capturedIo({ PROBE_PW: "wrong" });
    expect(await probeCommand(args("--pop3", pop3.url, "--timeout", "5"), io)).toBe(3);
    expect(out.stdout).toMatch(/^ROUNDTRIP UNKNOWN - mailbox of target probe: login: /);
    expect(pop3.maildrop).toHaveLength(0);
  });

  it.each([
    [["--pop3", "pop3://127.0.0.1:1", "--imap", "imap://127.0.0.1:1"], "give --imap or --pop3, not both"],
    [
      ["--pop3", "imaps://127.0.0.1:993"],
      '--pop3 takes a pop3:// or pop3s:// URL, not "imaps://127.0.0.1:993"',
    ],
    [["--imap", "smtp://127.0.0.1:25"], '--imap takes a imap:// or imaps:// URL, not "smtp://127.0.0.1:25"'],
    [["--pop3", "pop3://127.0.0.1:1", "--junk-folder", "Spam"], "--junk-folder applies to --imap only"],
    [
      ["--pop3", "pop3://127.0.0.1:1", "--listen", "127.0.0.1:2525"],
      "--listen applies to the return mode only",
    ],
    [
      ["--pop3", "pop3://127.0.0.1:1", "--password-file", "/x"],
      "exactly one of --password-file and --password-env",
    ],
  ])("refuses %j as UNKNOWN: %s", async (more, message) => {
    const { args, env } = await setup();
    const { out, io } = capturedIo(env);
    expect(await probeCommand(args(...more), io)).toBe(3);
    expect(out.stdout).toContain(message);
  });

  it("needs --from in fetch mode (there is no return address to default to)", async () => {
    const { io, out } = capturedIo();
    const code = await probeCommand(
      ["--to", "a@example.test", "--key-file", "/k", "--pop3", "pop3://127.0.0.1:1", "--user", "u"],
      io,
    );
    expect(code).toBe(3);
    expect(out.stdout).toBe("ROUNDTRIP UNKNOWN - missing --from; see email-scout probe --help\n");
  });
});

describe("oneFetchRoundTrip and its Nagios line", () => {
  it("a probe filed in the junk folder is WARNING, says so in the text and junk=1", async () => {
    const mailbox = new MemoryMailbox({ now: () => Date.now() });
    const keys: ProbeKeyRing = [{ id: "k1", key: newProbeKey() }];
    const result = await oneFetchRoundTrip({
      to: "probe@example.test",
      from: "monitor@scout.test",
      inboundDomain: "scout.test",
      keys,
      sender: mailbox.sender("junk"),
      openMailbox: async () => mailbox.session(),
      timeoutMs: 30_000,
      pollMs: 50,
      deleteAfterFetch: true,
      targetId: "probe",
      log: new RecordingLogger(),
    });
    expect(result.probe.state).toBe("returned");
    expect(mailbox.deleted).toHaveLength(1);
    expect(mailbox.openSessions).toBe(0);
    const { line, code } = formatRoundTrip(result, 30_000, 60_000, { fetch: true });
    expect(code).toBe(1);
    expect(line).toMatch(
      /^ROUNDTRIP WARNING - \d+\.\d{3} s, landed in junk folder Junk \| rtt=\d+\.\d{3}s;30\.000;60\.000;0 junk=1;;;0;1$/,
    );
  });
});
