import { SESClient } from "@aws-sdk/client-ses";
import { afterEach, describe, expect, it } from "vitest";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { buildProbe } from "../../../../core/roundtrip/probe-message.ts";
import { sendProbe } from "../../../../core/roundtrip/send-probe.ts";
import { SesMailSender, type SesSendOptions } from "../../../../lambdas/aws/ses-mail-sender.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import { FAKE_CREDENTIALS, REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";
import {
  type SesSendingStandIn,
  type SesSendingStandInOptions,
  startSesSendingStandIn,
} from "../../../support/ses-sending-standin.ts";
import { type VirtualTimer, virtualTimer } from "../../../support/virtual-timer.ts";

/*
 * The SES adapter with a real SESClient talking to the SES stand-in over HTTP (no MTA behind it:
 * the stand-in keeps what it accepts). Pacing and backoff run on an injected clock.
 */
useFakeAwsEnvironment();

const INBOUND = "scout-returns.example.com";
const FROM = `monitor@${INBOUND}`;
const KEY = { id: "k1", key: Buffer.alloc(32, 7) };

let standIn: SesSendingStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

interface Setup {
  readonly standIn: SesSendingStandIn;
  readonly timer: VirtualTimer;
  readonly log: RecordingLogger;
  /** The injected time at which each SES request left the client. */
  readonly issued: { command: string; atMs: number }[];
  /** A sender for one run. */
  sender(options?: Partial<SesSendOptions>): SesMailSender;
}

async function setUp(options: SesSendingStandInOptions = {}): Promise<Setup> {
  standIn = await startSesSendingStandIn(options);
  const timer = virtualTimer();
  const log = new RecordingLogger();
  // One attempt per call: the adapter's own retries are under test, not the SDK's.
  const client = new SESClient({
    region: REGION,
    endpoint: standIn.endpoint,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
  });
  const issued: { command: string; atMs: number }[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      issued.push({ command: context.commandName ?? "", atMs: timer.now() });
      return next(args);
    },
    { step: "initialize", priority: "high" },
  );
  return {
    standIn,
    timer,
    log,
    issued,
    sender: (more = {}) => new SesMailSender(client, { log, timer, random: () => 0, ...more }),
  };
}

/** The core's sendProbe through `sender`, recorded in a memory store: what the cycle does per target. */
async function probe(sender: SesMailSender, to: string, timer: VirtualTimer): Promise<ProbeRecord> {
  return sendProbe(
    { targetId: "mx1", to, from: FROM, inboundDomain: INBOUND, deadlineMs: 300_000 },
    { store: new MemoryStore(), sender, key: KEY, clock: timer, log: new RecordingLogger() },
  );
}

describe("SesMailSender on the SES stand-in", () => {
  it("sends the probe's bytes as they are, with the envelope as Source and Destinations and the configuration set", async () => {
    const { standIn, sender } = await setUp({ configurationSets: ["EmailScout-probes"] });
    const built = await buildProbe({
      probeId: "AAAAAAAAAAAAAAAAAAAAAA",
      targetId: "mx1",
      to: "probe@mx1.example.com",
      from: FROM,
      inboundDomain: INBOUND,
      sentAtMs: Date.parse("2026-06-01T00:00:00Z"),
      key: KEY,
    });
    const receipt = await sender({ configurationSetName: "EmailScout-probes" }).send({
      envelope: built.envelope,
      raw: built.raw,
    });
    const [relayed] = standIn.relayed;
    expect(receipt.response).toBe(`SES accepted, MessageId ${relayed?.messageId}`);
    expect(relayed).toMatchObject({
      source: `bounces+AAAAAAAAAAAAAAAAAAAAAA@${INBOUND}`,
      destinations: ["probe@mx1.example.com"],
      configurationSetName: "EmailScout-probes",
    });
    expect(relayed?.raw.equals(built.raw)).toBe(true);
    expect(built.raw.toString()).toContain(`X-Scout-Probe: ${built.token}\r\n`);
  });

  it("paces N sends at MaxSendRate R over at least (N-1)/R seconds of the injected clock", async () => {
    const { standIn, timer, issued, sender } = await setUp({
      quota: { max24HourSend: 50_000, maxSendRate: 2 },
    });
    const run = sender();
    const start = timer.now();
    const probes = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => probe(run, `probe${n}@mx${n}.example.com`, timer)),
    );
    expect(probes.map((record) => record.state)).toEqual(["sent", "sent", "sent", "sent", "sent"]);
    expect(timer.now() - start).toBeGreaterThanOrEqual(((5 - 1) / 2) * 1000);
    // The quota is read once, before the first send; then the sends leave 1/R apart.
    expect(issued.map((call) => call.command)).toEqual([
      "GetSendQuotaCommand",
      ...Array(5).fill("SendRawEmailCommand"),
    ]);
    const sendTimes = issued.slice(1).map((call) => call.atMs);
    for (let index = 1; index < sendTimes.length; index += 1) {
      expect((sendTimes[index] ?? 0) - (sendTimes[index - 1] ?? 0)).toBeGreaterThanOrEqual(500);
    }
    expect(standIn.relayed).toHaveLength(5);
    expect(timer.pending()).toBe(0);
  });

  it("takes a probe's send time once its send slot is reserved: the wait for the slot is not round-trip time", async () => {
    const { timer, issued, sender } = await setUp({ quota: { max24HourSend: 50_000, maxSendRate: 1 } });
    const run = sender();
    const probes = await Promise.all([1, 2, 3].map((n) => probe(run, `probe${n}@mx${n}.example.com`, timer)));
    const sentAt = probes.map((record) => record.sentAtMs).sort((a, b) => a - b);
    const issuedAt = issued.filter((call) => call.command === "SendRawEmailCommand").map((call) => call.atMs);
    // Each probe's clock starts at its own slot (1 s apart at 1/s), and its send leaves at once.
    expect((sentAt[2] ?? 0) - (sentAt[0] ?? 0)).toBeGreaterThanOrEqual(2000);
    for (const [index, atMs] of issuedAt.entries()) {
      expect(atMs - (sentAt[index] ?? Number.NaN)).toBeLessThan(1000);
    }
    expect(timer.pending()).toBe(0);
  });

  it("paces a shard's sends to its share of MaxSendRate, so a run's shards together stay within it", async () => {
    const { timer, issued, sender } = await setUp({ quota: { max24HourSend: 50_000, maxSendRate: 4 } });
    // One of four shards: 1 send a second instead of 4.
    const run = sender({ rateShare: 1 / 4 });
    await Promise.all([1, 2, 3].map((n) => probe(run, `probe${n}@mx${n}.example.com`, timer)));
    const sendTimes = issued
      .filter((call) => call.command === "SendRawEmailCommand")
      .map((call) => call.atMs);
    expect((sendTimes[2] ?? 0) - (sendTimes[0] ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it("retries a throttled send with backoff: the probe is sent, not send-failed", async () => {
    const { standIn, timer, sender } = await setUp();
    standIn.throttleNext(2);
    const start = timer.now();
    const record = await probe(sender(), "probe@mx1.example.com", timer);
    expect(record.state).toBe("sent");
    expect(record.error).toBeUndefined();
    expect(standIn.requests.map((request) => request.outcome)).toEqual([
      "ok",
      "Throttling",
      "Throttling",
      "ok",
    ]);
    expect(standIn.relayed).toHaveLength(1);
    // Backoff of 1 s then 2 s, halved by the fixed jitter, on top of the pacing at 14/s.
    expect(timer.sleeps.filter((ms) => ms >= 500)).toEqual([500, 1_000]);
    expect(timer.now() - start).toBeGreaterThanOrEqual(1_500);
  });

  it("keeps a send throttled past the run's budget as send-failed, with SES's code in the text", async () => {
    const { standIn, timer, sender } = await setUp();
    standIn.throttleNext(Number.POSITIVE_INFINITY);
    const record = await probe(sender({ budgetMs: 10_000 }), "probe@mx1.example.com", timer);
    expect(record.state).toBe("send-failed");
    expect(record.error).toMatch(
      /^Throttling: Maximum sending rate exceeded\. \(still throttled after \d+ attempts; the run's send budget of 10 s is spent\)$/,
    );
    // It gave up before the budget ran out, not after.
    expect(timer.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(10_000);
  });

  it("does not send a probe whose send slot would come after the run's budget", async () => {
    const { standIn, timer, sender } = await setUp({ quota: { max24HourSend: 200, maxSendRate: 1 } });
    const run = sender({ budgetMs: 1_500 });
    const records = await Promise.all(
      ["probe@mx1.example.com", "probe@mx2.example.com", "probe@mx3.example.com"].map((to) =>
        probe(run, to, timer),
      ),
    );
    // Whichever asked last for a slot.
    expect(records.map((record) => record.state).sort()).toEqual(["send-failed", "sent", "sent"]);
    expect(records.find((record) => record.state === "send-failed")?.error).toBe(
      "not sent: at MaxSendRate 1/s no send slot was left in the run's SES send budget of 1.5 s",
    );
    expect(standIn.relayed).toHaveLength(2);
  });

  it("fails a send SES rejects at once, its code first: MessageRejected is not throttling", async () => {
    const { standIn, timer, sender } = await setUp({ verifiedIdentities: ["example.org"] });
    const record = await probe(sender(), "probe@mx1.example.com", timer);
    expect(record.state).toBe("send-failed");
    expect(record.error).toMatch(
      new RegExp(
        `^MessageRejected: Email address is not verified\\. The following identities failed the check in region EU-WEST-1: bounces\\+${record.probeId}@${INBOUND.replaceAll(".", "\\.")}$`,
      ),
    );
    expect(standIn.requests.filter((request) => request.action === "SendRawEmail")).toHaveLength(1);
    expect(timer.sleeps).toEqual([]);
  });

  it("keeps SES's code for a configuration set that does not exist", async () => {
    const { timer, sender } = await setUp({ configurationSets: ["EmailScout-probes"] });
    const record = await probe(sender({ configurationSetName: "Elsewhere" }), "probe@mx1.example.com", timer);
    // The SDK names SES's ConfigurationSetDoesNotExist by its modelled exception.
    expect(record.error).toBe(
      "ConfigurationSetDoesNotExistException: Configuration set <Elsewhere> does not exist.",
    );
  });

  describe("in the SES sandbox", () => {
    const sandbox = { sandbox: true, verifiedIdentities: [INBOUND, "verified@mx2.example.com"] };

    it("sends to a verified recipient", async () => {
      const { standIn, timer, sender } = await setUp(sandbox);
      const record = await probe(sender(), "verified@mx2.example.com", timer);
      expect(record.state).toBe("sent");
      expect(standIn.relayed.map((message) => message.destinations)).toEqual([["verified@mx2.example.com"]]);
    });

    it("says what to do for an unverified recipient, in each probe's text and once per run in the log", async () => {
      const { timer, log, sender } = await setUp(sandbox);
      const run = sender();
      const records = await Promise.all(
        ["probe@mx1.example.com", "probe@mx3.example.com"].map((to) => probe(run, to, timer)),
      );
      for (const record of records) {
        expect(record.state).toBe("send-failed");
        expect(record.error).toBe(
          `SES sandbox: verify the probe address ${record.toAddress} as an identity, or request production access ` +
            `(MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: ${record.toAddress})`,
        );
      }
      const sandboxLines = () => log.entries.filter((entry) => entry.message.startsWith("SES sandbox:"));
      expect(sandboxLines()).toHaveLength(1);
      expect(sandboxLines()[0]).toMatchObject({ level: "error", fields: { to: "probe@mx1.example.com" } });
      // The next run says it again, once.
      await probe(sender(), "probe@mx1.example.com", timer);
      expect(sandboxLines()).toHaveLength(2);
      expect(log.entries.find((entry) => entry.message === "SES sending quota")?.fields).toMatchObject({
        maxSendRate: 1,
        max24HourSend: 200,
        sandbox: true,
      });
    });
  });

  it("sends unpaced, and says so once, when the quota cannot be read", async () => {
    const { standIn, timer, log, sender } = await setUp({ quota: "denied" });
    const run = sender();
    const records = await Promise.all(
      ["probe@mx1.example.com", "probe@mx2.example.com"].map((to) => probe(run, to, timer)),
    );
    expect(records.map((record) => record.state)).toEqual(["sent", "sent"]);
    expect(timer.sleeps).toEqual([]);
    expect(standIn.requests.filter((request) => request.action === "GetSendQuota")).toHaveLength(1);
    const warnings = log.entries.filter((entry) => entry.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/^cannot read the SES sending quota \(ses:GetSendQuota\)/);
    expect(warnings[0]?.fields.error).toMatch(
      /^AccessDenied: User: .* is not authorized to perform: ses:GetSendQuota$/,
    );
  });
});
