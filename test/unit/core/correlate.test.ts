import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../lambdas/adapters/memory/memory-store.ts";
import { type CorrelateDeps, correlateInbound, type InboundMail } from "../../../lambdas/core/correlate.ts";
import { buildProbe } from "../../../lambdas/core/probe-message.ts";
import { createProbeToken } from "../../../lambdas/core/probe-token.ts";
import { sweepOverdue } from "../../../lambdas/core/sweep.ts";
import type { Clock } from "../../../lambdas/ports/clock.ts";
import type { NewProbe, ProbeStore, RejectionLog } from "../../../lambdas/ports/probe-store.ts";
import { composeReply, replyFromAddress } from "../../../lambdas/return/compose-reply.ts";
import { decide, envelopeSenderOf } from "../../../lambdas/return/decide.ts";
import { parseMessage } from "../../../lambdas/return/parse-headers.ts";

const key = Buffer.alloc(32, 0x5c);
const inboundDomain = "scout-returns.example.com";
const returnAddress = `returns@${inboundDomain}`;
const probeId = "retProbe-000000001";
const targetId = "mx1.scout.test";
const sentAtMs = Date.UTC(2023, 10, 28, 12, 0, 0);
const maxAgeMs = 3_600_000;
const deadlineMs = sentAtMs + 600_000;

/** The monitor's clock, which the tests move by hand. */
class FakeClock implements Clock {
  constructor(public nowMs: number) {}
  now(): number {
    return this.nowMs;
  }
}

interface ReturnOptions {
  /** The key the probe was signed with. */
  signKey?: Buffer;
  /** The target the probe's token names. */
  tokenTargetId?: string;
  /** The remote server's clock when the probe arrived. */
  remoteArrivedAtMs?: number;
  /** Edits the return's text before the monitor's MTA receives it. */
  edit?: (text: string) => string;
}

/**
 * A return exactly as email_return makes one: the probe as the prober builds it, delivered by
 * Postfix to the ~/.forward pipe (From_ line, Return-Path, two Received hops), judged by
 * email_return's decide() and answered by its composeReply(), then received by the monitor.
 */
async function makeReturn(options: ReturnOptions = {}): Promise<Buffer> {
  const probe = await buildProbe({
    probeId,
    targetId: options.tokenTargetId ?? targetId,
    to: "probe@mx1.scout.test",
    from: `Email Scout <probe@${inboundDomain}>`,
    inboundDomain,
    sentAtMs,
    key: options.signKey ?? key,
  });
  const delivered = [
    `From ${probe.envelope.from}  Tue Nov 28 12:00:01 2023`,
    `Return-Path: <${probe.envelope.from}>`,
    "X-Original-To: probe@mx1.scout.test",
    "Delivered-To: probe@mx1.scout.test",
    "Received: from relay.scout-returns.example.com (relay.scout-returns.example.com [192.0.2.10])",
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
    "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)",
    "\t(No client certificate requested)",
    "\tby mx1.scout.test (Postfix) with ESMTPS id 4SfRkQ0DxWz9vCx",
    "\tfor <probe@mx1.scout.test>; Tue, 28 Nov 2023 12:00:41 +0000 (UTC)",
    "Received: from localhost (localhost [127.0.0.1])",
    "\tby relay.scout-returns.example.com (Postfix) with ESMTP id 77AB10C2;",
    "\tTue, 28 Nov 2023 12:00:00 +0000 (UTC)",
    probe.raw.toString("latin1").replace(/\r\n/g, "\n"),
  ].join("\n");
  const message = parseMessage(Buffer.from(delivered, "latin1"));
  const arrivedAtMs = options.remoteArrivedAtMs ?? sentAtMs + 41_625;
  const env = { SENDER: probe.envelope.from, USER: "probe", DOMAIN: "mx1.scout.test" };
  const decision = decide({
    fields: message.fields,
    envelopeSender: envelopeSenderOf(env, message),
    key: options.signKey ?? key,
    nowMs: arrivedAtMs,
    maxAgeMs,
  });
  if (decision.action !== "reply") throw new Error(`email_return would not reply: ${decision.reason}`);
  const reply = composeReply({
    returnTo: returnAddress,
    from: replyFromAddress(undefined, env, message, "mx1.scout.test"),
    token: decision.token,
    arrivedAtMs,
    message,
    headerBlockCut: false,
    now: new Date(arrivedAtMs),
    hostname: "mx1.scout.test",
    uniqueId: "scout-return.test",
  });
  const received = [
    "Received: from mx1.scout.test (mx1.scout.test [198.51.100.7])",
    `\tby inbound.${inboundDomain} with ESMTPS id abc123;`,
    "\tTue, 28 Nov 2023 12:00:03 +0000",
    reply,
  ].join("\n");
  return Buffer.from((options.edit ?? ((t) => t))(received).replace(/\r?\n/g, "\r\n"), "latin1");
}

const newProbe: NewProbe = {
  probeId,
  targetId,
  toAddress: "probe@mx1.scout.test",
  messageId: `<probe.${probeId}@${inboundDomain}>`,
  sentAtMs,
  deadlineMs,
};

async function setup(options: { record?: boolean; nowMs?: number } = {}) {
  const store = new MemoryStore();
  if (options.record !== false) await store.recordSent(newProbe);
  const clock = new FakeClock(options.nowMs ?? sentAtMs + 3_250);
  const logs: Record<string, unknown>[] = [];
  const deps: CorrelateDeps = {
    store,
    key,
    returnAddress,
    inboundDomain,
    maxAgeMs,
    clock,
    log: (entry) => logs.push(entry),
  };
  return { store, clock, deps, logs };
}

function inbound(raw: Buffer, receivedAtMs: number, rcptTo: string[] = [returnAddress]): InboundMail {
  return { raw, receivedAtMs, envelope: { mailFrom: "probe@mx1.scout.test", rcptTo }, source: "test" };
}

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/dsn/${name}`, import.meta.url));

describe("correlateInbound: returns", () => {
  it("records a return with the RTT on the monitor's clock, the remote offset and the hops", async () => {
    const { store, deps, logs } = await setup();
    // The remote clock runs 40 s ahead: it saw the probe arrive at 12:00:41.625 by its clock.
    const outcome = await correlateInbound(inbound(await makeReturn(), sentAtMs + 3_250), deps);
    expect(outcome.kind).toBe("returned");
    const probe = await store.get(probeId);
    expect(outcome).toEqual({ kind: "returned", probe });
    expect(probe).toMatchObject({
      state: "returned",
      returnedAtMs: sentAtMs + 3_250,
      rttMs: 3_250,
      remoteArrivedAtMs: sentAtMs + 41_625,
      // remote arrival - (sent + rtt / 2) = 41 625 - 1 625
      remoteClockOffsetMs: 40_000,
      updatedAtMs: sentAtMs + 3_250,
    });
    expect(probe?.hops).toEqual([
      {
        from: "localhost",
        by: "relay.scout-returns.example.com",
        with: "ESMTP",
        atMs: Date.UTC(2023, 10, 28, 12, 0, 0),
      },
      {
        from: "relay.scout-returns.example.com",
        by: "mx1.scout.test",
        with: "ESMTPS",
        atMs: Date.UTC(2023, 10, 28, 12, 0, 41),
      },
    ]);
    expect(logs).toEqual([{ event: "probe-returned", probeId, rttMs: 3_250, source: "test" }]);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  it("rounds the remote clock offset", async () => {
    const { store, deps } = await setup();
    const raw = await makeReturn({ remoteArrivedAtMs: sentAtMs + 100 });
    await correlateInbound(inbound(raw, sentAtMs + 3_251), deps);
    // 100 - 3251 / 2 = -1525.5
    expect((await store.get(probeId))?.remoteClockOffsetMs).toBe(-1_525);
  });

  it("answers a second delivery of the same return with duplicate and changes nothing", async () => {
    const { store, clock, deps } = await setup();
    const raw = await makeReturn();
    await correlateInbound(inbound(raw, sentAtMs + 3_250), deps);
    const before = await store.get(probeId);
    clock.nowMs += 60_000;
    const again = await correlateInbound(inbound(raw, sentAtMs + 63_250), deps);
    expect(again).toEqual({ kind: "duplicate", probeId, state: "returned" });
    expect(await store.get(probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  it("records a return after the sweep as late, with the same fields", async () => {
    const { store, clock, deps } = await setup({ nowMs: deadlineMs + 1 });
    expect((await sweepOverdue(store, clock)).map((p) => p.probeId)).toEqual([probeId]);
    const receivedAtMs = deadlineMs + 5_000;
    clock.nowMs = receivedAtMs;
    const outcome = await correlateInbound(inbound(await makeReturn(), receivedAtMs), deps);
    expect(outcome.kind).toBe("late");
    expect(await store.get(probeId)).toMatchObject({
      state: "late",
      rttMs: receivedAtMs - sentAtMs,
      returnedAtMs: receivedAtMs,
    });
    const again = await correlateInbound(inbound(await makeReturn(), receivedAtMs + 1), deps);
    expect(again).toEqual({ kind: "duplicate", probeId, state: "late" });
  });

  it("accepts the return address in any case", async () => {
    const { deps } = await setup();
    const mail = inbound(await makeReturn(), sentAtMs + 3_250, [`<Returns@${inboundDomain.toUpperCase()}>`]);
    expect((await correlateInbound(mail, deps)).kind).toBe("returned");
  });
});

describe("correlateInbound: rejected returns are counted and change nothing", () => {
  const cases: {
    name: string;
    reason: string;
    make: () => Promise<Buffer>;
    receivedAtMs?: number;
    rcptTo?: string[];
    record?: boolean;
    probeId?: string;
  }[] = [
    {
      name: "a token signed with another key",
      reason: "token-bad-signature",
      make: () => makeReturn({ signKey: Buffer.alloc(32, 1) }),
      probeId,
    },
    {
      name: "a token older than maxAgeMs at arrival",
      reason: "token-expired",
      make: () => makeReturn(),
      receivedAtMs: sentAtMs + maxAgeMs + 1,
      probeId,
    },
    {
      name: "a token from more than 10 minutes in the future",
      reason: "token-from-future",
      make: () => makeReturn(),
      receivedAtMs: sentAtMs - 600_001,
      probeId,
    },
    {
      name: "no X-Scout-Probe header",
      reason: "no-token",
      make: () => makeReturn({ edit: (t) => t.replace(/^X-Scout-Probe: .*\n/m, "") }),
    },
    {
      name: "no Auto-Submitted header",
      reason: "not-a-return",
      make: () => makeReturn({ edit: (t) => t.replace(/^Auto-Submitted: auto-replied\n/m, "") }),
      probeId,
    },
    {
      name: "the probe itself (auto-generated), looped back",
      reason: "not-a-return",
      make: async () =>
        (
          await buildProbe({
            probeId,
            targetId,
            to: returnAddress,
            from: `probe@${inboundDomain}`,
            inboundDomain,
            sentAtMs,
            key,
          })
        ).raw,
      probeId,
    },
    {
      name: "a stranger's address in the inbound domain",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`postmaster@${inboundDomain}`],
    },
    {
      name: "the return address at another domain",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: ["returns@example.org"],
    },
    {
      name: "one good and one foreign recipient",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [returnAddress, "victim@example.org"],
    },
    { name: "no recipient at all", reason: "wrong-recipient", make: () => makeReturn(), rcptTo: [] },
    {
      name: "a bounces+ address with a malformed probe id",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`bounces+short@${inboundDomain}`],
    },
    {
      name: "bounces+ addresses of two different probes",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`bounces+${probeId}@${inboundDomain}`, `bounces+otherProbe-0000001@${inboundDomain}`],
    },
    {
      name: "a probe the store never saw",
      reason: "unknown-probe",
      make: () => makeReturn(),
      record: false,
      probeId,
    },
    {
      name: "a valid token for the same probe id but another target",
      reason: "probe-mismatch",
      make: () => makeReturn({ tokenTargetId: "mx2.scout.test" }),
      probeId,
    },
  ];

  it.each(cases)("$name -> $reason", async (c) => {
    const { store, deps, logs } = await setup(c.record === false ? { record: false } : {});
    const before = await store.get(probeId);
    const mail = inbound(await c.make(), c.receivedAtMs ?? sentAtMs + 3_250, c.rcptTo ?? [returnAddress]);
    const outcome = await correlateInbound(mail, deps);
    expect(outcome).toMatchObject({ kind: "rejected", reason: c.reason });
    expect(outcome.kind === "rejected" ? outcome.probeId : "not rejected").toBe(c.probeId);
    expect(await store.get(probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({ [c.reason]: 1 });
    expect(logs).toEqual([
      expect.objectContaining({ event: "inbound-rejected", reason: c.reason, source: "test" }),
    ]);
  });
});

describe("correlateInbound: bounces", () => {
  const fixtureProbe: NewProbe = {
    probeId: "dsnFixtureProbe-01",
    targetId: "scout.test",
    toAddress: "nobody@scout.test",
    messageId: "<dsnFixtureProbe-01@scout-returns.example.com>",
    sentAtMs,
    deadlineMs,
  };
  const bounceTo = [`bounces+${fixtureProbe.probeId}@${inboundDomain}`];
  const arrival = sentAtMs + 2_500;

  async function bounceSetup() {
    const context = await setup({ record: false, nowMs: arrival });
    await context.store.recordSent(fixtureProbe);
    return context;
  }

  it("records Postfix's 5.1.1 user-unknown DSN as bounced, with its diagnostic", async () => {
    const { store, deps } = await bounceSetup();
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), arrival, bounceTo), deps);
    const probe = await store.get(fixtureProbe.probeId);
    expect(outcome).toEqual({ kind: "bounced", probe });
    expect(probe).toMatchObject({
      state: "bounced",
      bounce: { status: "5.1.1", action: "failed", diagnostic: 'X-Postfix; unknown user: "nobody"' },
    });
    expect(probe?.rttMs).toBeUndefined();
    const again = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), arrival, bounceTo), deps);
    expect(again).toEqual({ kind: "duplicate", probeId: fixtureProbe.probeId, state: "bounced" });
  });

  it("records a bounce that comes after the sweep, and one sent to the return address", async () => {
    const { store, clock, deps } = await bounceSetup();
    clock.nowMs = deadlineMs + 1;
    await sweepOverdue(store, clock);
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), deadlineMs + 2), deps);
    expect(outcome.kind).toBe("bounced");
  });

  it("accepts a bounce days after the probe (MTAs retry for days)", async () => {
    const { deps } = await bounceSetup();
    const fiveDays = sentAtMs + 5 * 24 * 3_600_000;
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), fiveDays, bounceTo), deps);
    expect(outcome.kind).toBe("bounced");
  });

  it("answers a delayed DSN (4.4.1) with delayed and records nothing", async () => {
    const { store, deps } = await bounceSetup();
    const before = await store.get(fixtureProbe.probeId);
    const mail = inbound(fixture("postfix-4.4.1-delayed.eml"), sentAtMs + 4 * 3_600_000, bounceTo);
    const outcome = await correlateInbound(mail, deps);
    expect(outcome).toEqual({ kind: "delayed", probeId: fixtureProbe.probeId, status: "4.4.1" });
    expect(await store.get(fixtureProbe.probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  const text = () => fixture("postfix-5.1.1.eml").toString("latin1");
  const forged: { name: string; reason: string; detail: RegExp; raw: () => string; rcptTo?: string[] }[] = [
    {
      name: "a forged token (one MAC character changed)",
      reason: "token-bad-signature",
      detail: /signature/,
      raw: () => text().replace("wPLXaC7i2", "wPLXaC8i2"),
    },
    {
      name: "no token in the returned headers",
      reason: "unparseable-bounce",
      detail: /carry no X-Scout-Probe/,
      raw: () => text().replace(/^X-Scout-Probe: .*\n\t.*\n/m, ""),
    },
    {
      name: "no returned headers at all",
      reason: "unparseable-bounce",
      detail: /no original headers/,
      raw: () =>
        text().replace(
          /--4SfRkQ0DxWz9vCx\.1701172802\/mail\.scout\.test\nContent-Description: Undelivered[\s\S]*?(?=--4Sf)/,
          "",
        ),
    },
    {
      name: "a plain message to the bounces+ address",
      reason: "unparseable-bounce",
      detail: /not a delivery status notification/,
      raw: () => "From: someone@example.org\nSubject: hello\n\nnot a DSN\n",
    },
    {
      name: "a DSN about a return rather than the probe",
      reason: "unparseable-bounce",
      detail: /about a return/,
      raw: () =>
        text().replace(
          "Auto-Submitted: auto-generated\n",
          "Auto-Submitted: auto-replied\nX-Scout-Return-Version: 1\n",
        ),
    },
    {
      name: "a success DSN (Action: delivered)",
      reason: "unparseable-bounce",
      detail: /actions: delivered/,
      raw: () =>
        text().replace("Action: failed", "Action: delivered").replace("Status: 5.1.1", "Status: 2.0.0"),
    },
    {
      name: "a valid token of another probe than the bounces+ address names",
      reason: "probe-mismatch",
      detail: /token is for dsnFixtureProbe-01/,
      raw: () => text(),
      rcptTo: [`bounces+someOtherProbe-0001@${inboundDomain}`],
    },
  ];

  it.each(forged)("rejects $name: $reason, no state change", async (c) => {
    const { store, deps } = await bounceSetup();
    const before = await store.get(fixtureProbe.probeId);
    const outcome = await correlateInbound(
      inbound(Buffer.from(c.raw(), "latin1"), arrival, c.rcptTo ?? bounceTo),
      deps,
    );
    expect(outcome).toMatchObject({
      kind: "rejected",
      reason: c.reason,
      detail: expect.stringMatching(c.detail),
    });
    expect(await store.get(fixtureProbe.probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({ [c.reason]: 1 });
  });
});

describe("correlateInbound: hostile input never throws", () => {
  /** Deterministic bytes (xorshift32), so a failure can be replayed. */
  function noise(length: number, seed: number): Buffer {
    const bytes = Buffer.alloc(length);
    let x = seed;
    for (let i = 0; i < length; i += 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    return bytes;
  }

  const inputs: { name: string; raw: () => Buffer; reason: string }[] = [
    { name: "0 bytes", raw: () => Buffer.alloc(0), reason: "malformed-mail" },
    { name: "random binary", raw: () => noise(64 * 1024, 0x9e3779b9), reason: "malformed-mail" },
    { name: "random binary, short", raw: () => noise(37, 42), reason: "malformed-mail" },
    {
      name: "a 2 MB header line",
      raw: () => Buffer.from(`X-Scout-Probe: ${"A".repeat(2 * 1024 * 1024)}\r\n\r\nbody\r\n`),
      reason: "malformed-mail",
    },
    {
      name: "a broken multipart/report",
      raw: () =>
        Buffer.from(
          'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\x00\xff\r\n',
          "latin1",
        ),
      reason: "unparseable-bounce",
    },
    {
      name: "more than 10 MB",
      raw: () => Buffer.alloc(10_240_001, "a"),
      reason: "malformed-mail",
    },
  ];

  it.each(inputs)("$name -> $reason", async ({ raw, reason }) => {
    const { store, deps } = await setup();
    const outcome = await correlateInbound(inbound(raw(), sentAtMs + 3_250), deps);
    expect(outcome).toMatchObject({ kind: "rejected", reason });
    expect((await store.get(probeId))?.state).toBe("sent");
  });
});

describe("correlateInbound: failures that must reach the caller", () => {
  it("throws when the store fails, so the caller keeps the message and retries", async () => {
    const { store, deps } = await setup();
    const failing: ProbeStore & RejectionLog = Object.assign(Object.create(store) as MemoryStore, {
      transition: async () => {
        throw new Error("store unavailable");
      },
    });
    await expect(
      correlateInbound(inbound(await makeReturn(), sentAtMs + 3_250), { ...deps, store: failing }),
    ).rejects.toThrow("store unavailable");
    expect((await store.get(probeId))?.state).toBe("sent");
  });

  it("throws for a probe key too short to be real (configuration, not mail)", async () => {
    const { deps } = await setup();
    await expect(
      correlateInbound(inbound(await makeReturn(), sentAtMs + 3_250), { ...deps, key: Buffer.alloc(8) }),
    ).rejects.toThrow(RangeError);
  });
});

it("the DSN fixtures carry a real token for their probe", () => {
  const token = createProbeToken({ probeId: "dsnFixtureProbe-01", targetId: "scout.test", sentAtMs }, key);
  for (const name of ["postfix-5.1.1.eml", "postfix-4.4.1-delayed.eml"]) {
    const unfolded = fixture(name).toString("latin1").replace(/\n\t/g, "");
    expect(unfolded).toContain(`X-Scout-Probe: ${token}`);
  }
});
