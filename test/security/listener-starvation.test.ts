import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../core/config/parse-config.ts";
import { systemClock } from "../../core/ports/clock.ts";
import type { RejectReason } from "../../core/ports/probe-store.ts";
import { Spool } from "../../local/adapters/spool.ts";
import { InboundPort } from "../../local/serve/inbound-port.ts";
import { RawClient } from "../support/raw-smtp-client.ts";

/*
 * Issue 15, point 2: 100 connections sending a byte a second locked real returns out of the
 * listener (the idle timeout restarts on every byte; no session limit, no per-client limit).
 * With the limits from config, a real return gets in within the session limit.
 * Every client here is on loopback: 127.0.0.x source addresses make them different clients.
 */
const RETURNS = "returns@scout-returns.example.com";
const SESSION_LIMIT_MS = 3_000;
/** Scheduling on a shared machine, and the sender's pause between tries. */
const MARGIN_MS = 2_500;
const SLOW_CLIENTS = 100;

let dir: string;
let spool: Spool;
let inbound: InboundPort;
let counted: RejectReason[];
const clients: RawClient[] = [];
const drips: NodeJS.Timeout[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-starvation-"));
  spool = await Spool.open(dir);
  counted = [];
  const config = parseConfigText(
    JSON.stringify({
      dataDir: dir,
      probeKeyFile: join(dir, "probe.key"),
      inbound: {
        domain: "scout-returns.example.com",
        returnAddress: RETURNS,
        listen: { port: 0 },
        sessionTimeoutSeconds: SESSION_LIMIT_MS / 1000,
        maxConnectionsPerClient: 5,
      },
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://127.0.0.1:1" }] }],
    }),
    "starvation-test",
  );
  const quiet = { info() {}, warn() {}, error() {} };
  inbound = new InboundPort(config.inbound, spool, () => {}, quiet, systemClock, {
    countRejection: async (reason) => {
      counted.push(reason);
    },
  });
});
afterEach(async () => {
  for (const drip of drips.splice(0)) clearInterval(drip);
  for (const client of clients.splice(0)) client.close();
  await inbound.close();
  await rm(dir, { recursive: true, force: true });
});

/** A slow client: greeted (or refused), then a byte of a never-ending command every second. */
async function slowClient(port: number, from: string): Promise<string> {
  const { client, greeting } = await RawClient.open(port, from);
  clients.push(client);
  client.write("N");
  drips.push(setInterval(() => client.write("O"), 1_000));
  return greeting;
}

/** One delivery attempt of a real return; the reply to the end of DATA, or the refusal. */
async function deliverReturn(port: number, from: string): Promise<string> {
  const { client, greeting } = await RawClient.open(port, from);
  clients.push(client);
  if (!greeting.startsWith("220")) return greeting;
  await client.command("EHLO mx1.example.com");
  await client.command("MAIL FROM:<probe@mx1.example.com>");
  await client.command(`RCPT TO:<${RETURNS}>`);
  await client.command("DATA");
  const reply = await client.command("Subject: Re: probe\r\n\r\nreturned\r\n.");
  client.close();
  return reply;
}

describe("the listener under slow clients", () => {
  it("100 slow clients from 100 addresses keep a real return out no longer than the session limit", async () => {
    const port = await inbound.open();
    const greetings = await Promise.all(
      Array.from({ length: SLOW_CLIENTS }, (_, n) => slowClient(port, `127.0.0.${n + 1}`)),
    );
    // They took every slot there is.
    expect(greetings.every((greeting) => greeting.startsWith("220"))).toBe(true);
    const startedMs = Date.now();
    const replies: string[] = [];
    // The return's sender tries again after a refusal, as an MTA does (compressed in time).
    for (;;) {
      const reply = await deliverReturn(port, "127.0.0.200");
      replies.push(reply);
      if (!reply.startsWith("421")) break;
      expect(Date.now() - startedMs).toBeLessThan(SESSION_LIMIT_MS + MARGIN_MS);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const elapsedMs = Date.now() - startedMs;
    expect(replies[0]).toMatch(/^421 too many connections in all/);
    expect(replies.at(-1)).toMatch(/^250 /);
    expect(await spool.pending()).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(SESSION_LIMIT_MS + MARGIN_MS);
    // Each slow client was cut, and each cut counted; so was each refusal of the return.
    await expect
      .poll(() => counted.filter((reason) => reason === "listener-session-timeout").length, {
        timeout: 10_000,
      })
      .toBe(SLOW_CLIENTS);
    expect(counted.filter((reason) => reason === "listener-too-many-connections")).toHaveLength(
      replies.length - 1,
    );
  });

  it("100 slow connections from one address hold 5 slots; a return from elsewhere gets in at once", async () => {
    const port = await inbound.open();
    const greetings = await Promise.all(
      Array.from({ length: SLOW_CLIENTS }, () => slowClient(port, "127.0.0.1")),
    );
    expect(greetings.filter((greeting) => greeting.startsWith("220"))).toHaveLength(5);
    expect(
      greetings.filter((greeting) => greeting.startsWith("421 too many connections from your address")),
    ).toHaveLength(SLOW_CLIENTS - 5);
    expect(await deliverReturn(port, "127.0.0.2")).toMatch(/^250 /);
    expect(await spool.pending()).toHaveLength(1);
    expect(counted.filter((reason) => reason === "listener-too-many-connections")).toHaveLength(
      SLOW_CLIENTS - 5,
    );
  });
});
