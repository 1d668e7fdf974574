import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ListenerRefusal } from "../../../../core/ports/probe-store.ts";
import {
  type InboundListener,
  type InboundListenerOptions,
  startInboundListener,
} from "../../../../local/adapters/inbound-listener.ts";
import { RefusalLog, RejectionRate } from "../../../../local/adapters/listener-guard.ts";
import { Spool } from "../../../../local/adapters/spool.ts";
import { RawClient } from "../../../support/raw-smtp-client.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

const RETURNS = "returns@scout.example.net";
const DOMAIN = "scout.example.net";

let dir: string;
let spool: Spool;
let listener: InboundListener | undefined;
let refusals: [ListenerRefusal, string][];
const clients: RawClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-limits-"));
  spool = await Spool.open(dir);
  refusals = [];
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await listener?.close();
  listener = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<InboundListenerOptions> = {}): Promise<number> {
  listener = await startInboundListener({
    port: 0,
    returnAddress: RETURNS,
    inboundDomain: DOMAIN,
    spool,
    onSpooled: () => {},
    onRefusal: (reason, client) => refusals.push([reason, client]),
    closeTimeoutMs: 100,
    ...options,
  });
  return listener.port;
}

async function open(port: number, from = "127.0.0.1"): Promise<{ client: RawClient; greeting: string }> {
  const opened = await RawClient.open(port, from);
  clients.push(opened.client);
  return opened;
}

/** A clock the test moves by hand. */
function manualClock(startMs = 1_000_000) {
  const clock = { nowMs: startMs, now: () => clock.nowMs };
  return clock;
}

describe("inbound listener limits", () => {
  it("holds each address to maxConnectionsPerClient, and frees the slot when a session ends", async () => {
    const port = await start({ maxConnectionsPerClient: 2 });
    const first = await open(port);
    expect(first.greeting).toMatch(/^220 /);
    expect((await open(port)).greeting).toMatch(/^220 /);
    expect((await open(port)).greeting).toBe(
      "421 too many connections from your address, try again in a moment",
    );
    // Another address is not held back by this one.
    expect((await open(port, "127.0.0.2")).greeting).toMatch(/^220 /);
    expect(refusals).toEqual([["listener-too-many-connections", "127.0.0.1"]]);
    await first.client.command("QUIT");
    await expect.poll(async () => (await open(port)).greeting).toMatch(/^220 /);
  });

  it("holds all clients together to maxClients", async () => {
    const port = await start({ maxClients: 2 });
    await open(port, "127.0.0.1");
    await open(port, "127.0.0.2");
    expect((await open(port, "127.0.0.3")).greeting).toMatch(/^421 too many connections in all/);
    expect(refusals).toEqual([["listener-too-many-connections", "127.0.0.3"]]);
  });

  it("cuts a session at the session time limit however busy it is, with 421", async () => {
    const port = await start({ sessionTimeoutMs: 400, socketTimeoutMs: 60_000 });
    const { client } = await open(port);
    const startedMs = Date.now();
    const closed = once(client.socket, "close");
    // A drip-feeder: one byte of an endless command line every 50 ms keeps the idle timer
    // from ever firing; only the session limit ends it.
    const drip = setInterval(() => client.write("N"), 50);
    try {
      expect(await client.reply()).toBe("421 4.4.2 session time limit of 0.4 s reached");
      await closed;
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(350);
    expect(refusals).toEqual([["listener-session-timeout", "127.0.0.1"]]);
  });

  it("cuts a message dripped in DATA at the session limit, keeps nothing and logs no spool error", async () => {
    const log = new RecordingLogger();
    const port = await start({ sessionTimeoutMs: 400, log });
    const { client } = await open(port);
    await client.command("EHLO client.test");
    await client.command("MAIL FROM:<probe@mx1.example.com>");
    await client.command(`RCPT TO:<${RETURNS}>`);
    expect(await client.command("DATA")).toMatch(/^354/);
    const closed = once(client.socket, "close");
    const drip = setInterval(() => client.write("x"), 50);
    try {
      expect(await client.reply()).toBe("421 4.4.2 session time limit of 0.4 s reached");
      await closed;
    } finally {
      clearInterval(drip);
    }
    await expect
      .poll(async () => [...(await readdir(join(dir, "incoming"))), ...(await readdir(join(dir, "tmp")))])
      .toEqual([]);
    expect(log.entries.map(({ level, message }) => [level, message])).toEqual([
      ["warn", "inbound mail refused"],
    ]);
  });

  it("refuses a client that sent too much rejected mail, at MAIL FROM and at connect, for a minute", async () => {
    const clock = manualClock();
    const port = await start({ clock, rejections: new RejectionRate(2, clock) });
    const { client } = await open(port);
    await client.command("EHLO client.test");
    expect(await client.command("MAIL FROM:<x@example.org>")).toMatch(/^250/);
    expect(await client.command(`RCPT TO:<nobody@${DOMAIN}>`)).toMatch(/^550/);
    expect(await client.command(`RCPT TO:<nobody2@${DOMAIN}>`)).toMatch(/^550/);
    expect(await client.command("RSET")).toMatch(/^250/);
    expect(await client.command("MAIL FROM:<x@example.org>")).toBe(
      "421 4.4.2 too much rejected mail from your address, try again in a minute",
    );
    expect((await open(port)).greeting).toMatch(/^421 too much rejected mail/);
    expect((await open(port, "127.0.0.2")).greeting).toMatch(/^220 /);
    clock.nowMs += 60_001;
    expect((await open(port)).greeting).toMatch(/^220 /);
    expect(refusals.map(([reason]) => reason)).toEqual([
      "listener-wrong-recipient",
      "listener-wrong-recipient",
      "listener-rate-limited",
      "listener-rate-limited",
    ]);
  });

  it("counts a message refused as too large as rejected mail", async () => {
    const clock = manualClock();
    const rejections = new RejectionRate(1, clock);
    const port = await start({ clock, rejections, maxBytes: 1000 });
    const { client } = await open(port);
    await client.command("EHLO client.test");
    await client.command("MAIL FROM:<x@example.org>");
    await client.command(`RCPT TO:<${RETURNS}>`);
    expect(await client.command("DATA")).toMatch(/^354/);
    expect(await client.command(`Subject: big\r\n\r\n${"x".repeat(2000)}\r\n.`)).toMatch(/^552/);
    expect(refusals).toEqual([["listener-too-large", "127.0.0.1"]]);
    expect(rejections.exceeded("127.0.0.1")).toBe(true);
  });

  it("times a message's arrival at its last byte, not at DATA", async () => {
    const port = await start();
    const { client } = await open(port);
    await client.command("EHLO client.test");
    await client.command("MAIL FROM:<probe@mx1.example.com>");
    await client.command(`RCPT TO:<${RETURNS}>`);
    expect(await client.command("DATA")).toMatch(/^354/);
    const dataStartMs = Date.now();
    client.write("Subject: slow\r\n\r\n");
    // A slow sender: the rest of the message 300 ms later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lastByteMs = Date.now();
    expect(await client.command("the end\r\n.")).toMatch(/^250/);
    const [id] = await spool.pending();
    const { meta } = await spool.read(id as string);
    expect(meta.receivedAtMs).toBeGreaterThanOrEqual(lastByteMs);
    expect(meta.receivedAtMs - dataStartMs).toBeGreaterThanOrEqual(300);
  });
});

describe("RefusalLog", () => {
  it("logs a client's refusals once a minute, then says how many it held back", () => {
    const clock = manualClock();
    const log = new RecordingLogger();
    const refusalLog = new RefusalLog(log, clock);
    for (let n = 0; n < 3; n++) refusalLog.refused("192.0.2.1", "listener-wrong-recipient", "<a@b.c>");
    refusalLog.refused("192.0.2.2", "listener-too-large", "over 1000 bytes");
    clock.nowMs += 59_999;
    refusalLog.refused("192.0.2.1", "listener-rate-limited", "too much");
    clock.nowMs += 1;
    refusalLog.refused("192.0.2.1", "listener-rate-limited", "too much");
    expect(log.entries.map(({ fields }) => fields)).toEqual([
      { remoteAddress: "192.0.2.1", reason: "listener-wrong-recipient", detail: "<a@b.c>" },
      { remoteAddress: "192.0.2.2", reason: "listener-too-large", detail: "over 1000 bytes" },
      {
        remoteAddress: "192.0.2.1",
        reason: "listener-rate-limited",
        detail: "too much",
        refusedBeforeNotLogged: 3,
      },
    ]);
  });
});
