import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createTransport } from "nodemailer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogFields } from "../../../../core/ports/logger.ts";
import {
  type InboundListener,
  type InboundListenerOptions,
  isAcceptedRecipient,
  startInboundListener,
} from "../../../../local/adapters/inbound-listener.ts";
import { Spool } from "../../../../local/adapters/spool.ts";
import { makeTestPki } from "../../../support/certs.ts";
import { RawClient } from "../../../support/raw-smtp-client.ts";

const RETURNS = "returns@scout.example.net";
const DOMAIN = "scout.example.net";
const PROBE_ID = "AbCdEfGh_-12345678";

let dir: string;
let spool: Spool;
let listener: InboundListener | undefined;
let spooled: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-inbound-"));
  spool = await Spool.open(dir);
  spooled = [];
});
afterEach(async () => {
  await listener?.close();
  listener = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<InboundListenerOptions> = {}): Promise<InboundListener> {
  listener = await startInboundListener({
    port: 0,
    returnAddress: RETURNS,
    inboundDomain: DOMAIN,
    spool,
    onSpooled: (id) => spooled.push(id),
    name: "inbound.scout.test",
    ...options,
  });
  return listener;
}

const message = (extra = "") =>
  Buffer.from(
    `From: probe@mx1.example.com\r\nTo: ${RETURNS}\r\nSubject: return\r\n\r\n` +
      `line one\r\n.a line that starts with a dot\r\n..two dots\r\nbyte \xe9 8-bit\r\n${extra}`,
    "latin1",
  );

/** An open, greeted and EHLO'd raw session. */
async function session(port: number) {
  const { client } = await RawClient.open(port);
  const ehlo = await client.command("EHLO client.test");
  return { client, ehlo };
}

async function leftovers(): Promise<string[]> {
  return [...(await readdir(join(dir, "incoming"))), ...(await readdir(join(dir, "tmp")))];
}

describe("isAcceptedRecipient", () => {
  it.each([
    [RETURNS, true],
    ["returns@SCOUT.Example.NET", true],
    ["Returns@scout.example.net", false],
    [`bounces+${PROBE_ID}@${DOMAIN}`, true],
    [`BOUNCES+${PROBE_ID}@Scout.Example.Net`, true],
    [`bounces+short@${DOMAIN}`, false],
    [`bounces+${"a".repeat(33)}@${DOMAIN}`, false],
    [`bounces+${PROBE_ID}.x@${DOMAIN}`, false],
    [`bounces+${PROBE_ID}@other.example.net`, false],
    [`someone@${DOMAIN}`, false],
    ["returns@scout.example.net.evil.test", false],
  ])("%s -> %s", (address, accepted) => {
    expect(isAcceptedRecipient(address, RETURNS, DOMAIN)).toBe(accepted);
  });
});

describe("inbound listener", () => {
  it("spools a return byte-identical with its envelope, and answers 250 with the id", async () => {
    const { port } = await start();
    const transport = createTransport({ host: "127.0.0.1", port, ignoreTLS: true, logger: false });
    const raw = message();
    const info = await transport.sendMail({
      envelope: { from: "probe@mx1.example.com", to: [RETURNS] },
      raw,
    });
    transport.close();
    const [id] = await spool.pending();
    expect(id).toBeDefined();
    expect(info.response).toBe(`250 2.6.0 Ok: queued as ${id}`);
    const entry = await spool.read(id as string);
    expect(entry.raw.equals(raw)).toBe(true);
    expect(entry.meta).toMatchObject({
      envelope: { from: "probe@mx1.example.com", to: [RETURNS] },
      remoteAddress: "127.0.0.1",
      size: raw.length,
    });
    expect(Math.abs(entry.meta.receivedAtMs - Date.now())).toBeLessThan(60_000);
    expect(spooled).toEqual([id]);
  });

  it("calls onSpooled with the id of the 250, once the message is in incoming/", async () => {
    const order: string[] = [];
    let onDisk: Promise<string[]> | undefined;
    const { port } = await start({
      onSpooled: (id) => {
        order.push(`spooled ${id}`);
        onDisk = spool.pending();
      },
    });
    const { client } = await session(port);
    expect(await client.command("MAIL FROM:<probe@mx1.example.com>")).toMatch(/^250/);
    expect(await client.command(`RCPT TO:<${RETURNS}>`)).toMatch(/^250/);
    expect(await client.command("DATA")).toMatch(/^354/);
    const reply = await client.command(`${message().toString("latin1")}.`);
    order.push(reply);
    client.close();
    const id = /queued as (\S+)/.exec(reply)?.[1];
    await expect.poll(() => order.length).toBe(2);
    // The id onSpooled got is the one the 250 named, and it was in incoming/ when it ran.
    expect(order).toContain(`spooled ${id}`);
    expect(await onDisk).toEqual([id]);
  });

  it("refuses unknown recipients with 550 5.1.1, and logs them", async () => {
    const logged: Array<[string, LogFields | undefined]> = [];
    const record = (message: string, fields?: LogFields) => logged.push([message, fields]);
    const refusals: string[][] = [];
    const { port } = await start({
      log: { info: record, warn: record, error: record },
      onRefusal: (...refusal) => refusals.push(refusal),
    });
    const { client } = await session(port);
    expect(await client.command("MAIL FROM:<someone@example.org>")).toMatch(/^250/);
    expect(await client.command("RCPT TO:<postmaster@scout.example.net>")).toBe(
      "550 5.1.1 <postmaster@scout.example.net>: recipient not accepted here",
    );
    expect(await client.command(`RCPT TO:<bounces+tooshort@${DOMAIN}>`)).toMatch(/^550 5\.1\.1 /);
    expect(await client.command("DATA")).toMatch(/^503/);
    client.close();
    expect(await leftovers()).toEqual([]);
    // Two refusals, one log line: a client's refusals are logged once a minute.
    expect(logged).toEqual([
      [
        "inbound mail refused",
        {
          reason: "listener-wrong-recipient",
          detail: "<postmaster@scout.example.net>",
          remoteAddress: "127.0.0.1",
        },
      ],
    ]);
    expect(refusals).toEqual([
      ["listener-wrong-recipient", "127.0.0.1", "<postmaster@scout.example.net>"],
      ["listener-wrong-recipient", "127.0.0.1", `<bounces+tooshort@${DOMAIN}>`],
    ]);
  });

  it("accepts a bounce from the null sender to bounces+<probeId>", async () => {
    const { port } = await start();
    const { client } = await session(port);
    expect(await client.command("MAIL FROM:<>")).toMatch(/^250/);
    expect(await client.command(`RCPT TO:<bounces+${PROBE_ID}@SCOUT.example.net>`)).toMatch(/^250/);
    expect(await client.command("DATA")).toMatch(/^354/);
    expect(await client.command("Subject: Undelivered Mail\r\n\r\nbounce\r\n.")).toMatch(/^250 2\.6\.0 /);
    client.close();
    const [id] = await spool.pending();
    const entry = await spool.read(id as string);
    expect(entry.meta.envelope).toEqual({ from: "", to: [`bounces+${PROBE_ID}@SCOUT.example.net`] });
  });

  it("advertises SIZE and refuses an announced oversized message at MAIL FROM with 552", async () => {
    const { port } = await start({ maxBytes: 1000 });
    const { client, ehlo } = await session(port);
    expect(ehlo).toMatch(/^250[- ]SIZE 1000$/m);
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await client.command("MAIL FROM:<probe@mx1.example.com> SIZE=5000")).toMatch(/^552 5\.3\.4 /);
    client.close();
    expect(await leftovers()).toEqual([]);
  });

  it("refuses a message that streams over the limit with 552 5.3.4, keeps nothing, and goes on", async () => {
    const { port } = await start({ maxBytes: 1000 });
    const { client } = await session(port);
    expect(await client.command("MAIL FROM:<probe@mx1.example.com>")).toMatch(/^250/);
    expect(await client.command(`RCPT TO:<${RETURNS}>`)).toMatch(/^250/);
    expect(await client.command("DATA")).toMatch(/^354/);
    const big = `Subject: big\r\n\r\n${"x".repeat(76)}\r\n`.repeat(100);
    expect(await client.command(`${big}.`)).toMatch(/^552 5\.3\.4 /);
    expect(await leftovers()).toEqual([]);
    expect(spooled).toEqual([]);
    // The session survives: the next message on it is accepted.
    expect(await client.command("MAIL FROM:<probe@mx1.example.com>")).toMatch(/^250/);
    expect(await client.command(`RCPT TO:<${RETURNS}>`)).toMatch(/^250/);
    expect(await client.command("DATA")).toMatch(/^354/);
    expect(await client.command("Subject: small\r\n\r\nok\r\n.")).toMatch(/^250/);
    client.close();
    expect(await spool.pending()).toHaveLength(1);
  });

  it("keeps nothing of a message whose sender hangs up in the middle", async () => {
    const { port } = await start();
    const { client } = await session(port);
    await client.command("MAIL FROM:<probe@mx1.example.com>");
    await client.command(`RCPT TO:<${RETURNS}>`);
    expect(await client.command("DATA")).toMatch(/^354/);
    client.write("Subject: cut\r\n\r\nhalf a message\r\n");
    await expect.poll(async () => (await readdir(join(dir, "tmp"))).length).toBe(1);
    client.close();
    await expect.poll(leftovers).toEqual([]);
    expect(spooled).toEqual([]);
  });

  it("without a certificate, neither offers nor accepts STARTTLS", async () => {
    const { port } = await start();
    const { client, ehlo } = await session(port);
    expect(ehlo).not.toMatch(/STARTTLS/);
    expect(await client.command("STARTTLS")).toMatch(/^5\d\d /);
    client.close();
  });

  it("offers STARTTLS with a certificate, and a client can upgrade and deliver", async () => {
    const pki = await makeTestPki();
    const { port } = await start({ tls: { key: pki.valid.key, cert: pki.valid.cert } });
    const { client, ehlo } = await session(port);
    expect(ehlo).toMatch(/^250[- ]STARTTLS$/m);
    client.close();
    // requireTLS: nodemailer refuses to go on unless the STARTTLS upgrade (to a certificate
    // it verifies against the test CA) succeeded.
    const transport = createTransport({
      host: "127.0.0.1",
      port,
      requireTLS: true,
      tls: { ca: pki.caPem },
      logger: false,
    });
    const info = await transport.sendMail({
      envelope: { from: "probe@mx1.example.com", to: [RETURNS] },
      raw: message(),
    });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    expect(await spool.pending()).toHaveLength(1);
  });

  it("answers 451 4.3.0 when the spool cannot write, so the sender keeps the message", async () => {
    const { port } = await start();
    // A real failure: the spool's tmp/ is gone (as if the disk had been unmounted).
    await rm(join(dir, "tmp"), { recursive: true });
    const transport = createTransport({ host: "127.0.0.1", port, ignoreTLS: true, logger: false });
    const envelope = { from: "probe@mx1.example.com", to: [RETURNS] };
    const failure = await transport.sendMail({ envelope, raw: message() }).then(
      () => undefined,
      (error: { responseCode?: number; response?: string }) => error,
    );
    expect(failure?.responseCode).toBe(451);
    expect(failure?.response).toMatch(/^451 4\.3\.0 /);
    expect(await readdir(join(dir, "incoming"))).toEqual([]);
    expect(spooled).toEqual([]);
    // The sender retries later; by then the spool works again and the message arrives whole.
    await Spool.open(dir);
    await transport.sendMail({ envelope, raw: message() });
    transport.close();
    const [id] = await spool.pending();
    expect((await spool.read(id as string)).raw.equals(message())).toBe(true);
  });

  it("keeps a message acknowledged with 250 when the process is killed before processing it", async () => {
    const fixture = fileURLToPath(new URL("../../../fixtures/inbound-listener-child.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", fixture, dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(child, "exit");
    try {
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<number>((resolve, reject) => {
        lines.on("line", (line) => {
          const match = /^listening (\d+)$/.exec(line);
          if (match !== null) resolve(Number(match[1]));
        });
        child.once("exit", (code) => reject(new Error(`child exited (${code}) before listening: ${stderr}`)));
      });
      const port = await ready;
      const transport = createTransport({ host: "127.0.0.1", port, ignoreTLS: true, logger: false });
      const raw = message("killed right after the 250\r\n");
      const info = await transport.sendMail({
        envelope: { from: "probe@mx1.example.com", to: [RETURNS] },
        raw,
      });
      transport.close();
      expect(info.response).toMatch(/^250 /);
      child.kill("SIGKILL");
      const [, signal] = await exited;
      expect(signal).toBe("SIGKILL");

      const after = await Spool.open(dir);
      const pending = await after.pending();
      expect(pending).toHaveLength(1);
      expect(info.response).toContain(pending[0]);
      const entry = await after.read(pending[0] as string);
      expect(entry.raw.equals(raw)).toBe(true);
      expect(entry.meta.envelope).toEqual({ from: "probe@mx1.example.com", to: [RETURNS] });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  });
});
