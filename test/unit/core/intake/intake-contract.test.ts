import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { roundTripEventId } from "../../../../core/events/roundtrip-completed.ts";
import type { ProbeRecord, RejectReason } from "../../../../core/ports/probe-store.ts";
import {
  bounceEnvelope,
  bounceOf,
  forgedReturnOf,
  MAILBOX_HOP,
  malformedMail,
  probeIdOf,
  RETURN_ENVELOPE,
  returnOf,
  tokenlessReturnOf,
} from "../../../support/shell-mail.ts";
import { awsRuntime } from "../../../support/shell-runtime-aws.ts";
import { localRuntime } from "../../../support/shell-runtime-local.ts";
import {
  DEADLINE_SECONDS,
  PROBED_TARGET,
  type SentProbe,
  type ShellRuntime,
} from "../../../support/shell-runtimes.ts";

/*
 * The return intake (an inbound return or bounce -> correlation with its probe -> events), one
 * contract for both shells: local mode (the spool, drained by LocalMonitor, on SQLite) and AWS
 * (an object under returns/ in S3, the correlator handler, DynamoDB, SQS). Every probe here was
 * sent by the shell's own cycle; see test/support/shell-runtimes.ts and shell-mail.ts.
 */

/** Long enough to tell from zero, short of every round-trip threshold. */
const TRANSIT_MS = 1_500;

function roundTripsOf(shell: ShellRuntime, probeId: string): ScoutEvent[] {
  return shell
    .queuedEvents()
    .filter((event) => event.type === "roundtrip.completed" && event.data.probeId === probeId);
}

describe.each([
  { name: "local", start: localRuntime },
  { name: "aws", start: awsRuntime },
])("the return intake on $name", ({ start }) => {
  let shell: ShellRuntime;
  beforeEach(async () => {
    shell = await start();
  });
  afterEach(async () => {
    await shell?.close();
  });

  /** Runs a cycle and returns the probe it sent, with its id. */
  async function sendProbe(): Promise<{ probe: SentProbe; probeId: string }> {
    await shell.runCycle();
    const probe = shell.sentProbes().at(-1);
    if (probe === undefined) throw new Error("the cycle sent no probe");
    return { probe, probeId: probeIdOf(probe) };
  }

  async function stored(probeId: string): Promise<ProbeRecord> {
    const record = await shell.stores.probes.get(probeId);
    if (record === undefined) throw new Error(`probe ${probeId} is not stored`);
    return record;
  }

  it("makes a genuine return a measured round trip, with its hops, and queues one roundtrip.completed", async () => {
    const { probe, probeId } = await sendProbe();
    const sentAtMs = (await stored(probeId)).sentAtMs;
    shell.clock.advance(TRANSIT_MS);
    const { arrivedAtMs } = await shell.deliverInbound(returnOf(shell, probe), RETURN_ENVELOPE);

    const returned = await stored(probeId);
    expect(returned).toMatchObject({ state: "returned", returnedAtMs: arrivedAtMs });
    expect(returned.rttMs).toBe(arrivedAtMs - sentAtMs);
    expect(returned.rttMs).toBe(TRANSIT_MS);
    expect(returned.hops).toContainEqual(expect.objectContaining(MAILBOX_HOP));

    const completed = roundTripsOf(shell, probeId);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      id: roundTripEventId(returned),
      data: { outcome: "returned", status: "OK", rttMs: TRANSIT_MS },
    });
  });

  it("reads the receiver's verdicts from the return's header block: DMARC fail and spam are WARNING", async () => {
    const { probe, probeId } = await sendProbe();
    shell.clock.advance(TRANSIT_MS);
    const receiverFields = [
      "X-Spam-Status: Yes, score=7.1 required=5.0 tests=BAYES_99 autolearn=no version=3.4.6",
      `Authentication-Results: ${MAILBOX_HOP.by}; dmarc=fail (p=reject dis=none) header.from=example.net`,
      "Authentication-Results: relay.example.net; dmarc=pass header.from=example.net",
    ];
    // A field in the probe itself (below its token) claims the receiver's name: it never counts.
    const forged = Buffer.from(
      probe.raw
        .toString("latin1")
        .replace(/^(X-Scout-Probe: .*\r\n)/m, `$1Authentication-Results: ${MAILBOX_HOP.by}; dmarc=pass\r\n`),
      "latin1",
    );
    const delivered = { ...probe, raw: forged };
    await shell.deliverInbound(returnOf(shell, delivered, shell.probeKey, receiverFields), RETURN_ENVELOPE);

    const verdicts = {
      authservId: MAILBOX_HOP.by,
      dmarc: { result: "fail", reason: "p=reject dis=none", domain: "example.net" },
      spam: [{ filter: "spamassassin", verdict: "spam", score: 7.1, threshold: 5 }],
      ignoredAuthResults: 2,
      problems: [],
    };
    expect((await stored(probeId)).verdicts).toEqual(verdicts);
    expect(roundTripsOf(shell, probeId)[0]?.data).toMatchObject({
      outcome: "returned",
      status: "WARNING",
      reason: "spam-verdict",
      verdicts,
    });
    expect(await shell.statusOf(PROBED_TARGET, "roundtrip")).toMatchObject({
      status: "WARNING",
      reason: "spam-verdict",
    });
  });

  it("records one result and queues one event when the same return arrives twice", async () => {
    const { probe, probeId } = await sendProbe();
    shell.clock.advance(TRANSIT_MS);
    const reply = returnOf(shell, probe);
    await shell.deliverInbound(reply, RETURN_ENVELOPE);
    const first = await stored(probeId);
    shell.clock.advance(TRANSIT_MS);
    await shell.deliverInbound(reply, RETURN_ENVELOPE);

    expect(await stored(probeId)).toEqual(first);
    expect(roundTripsOf(shell, probeId).map((event) => event.data.outcome)).toEqual(["returned"]);
  });

  it("marks a return that comes after the sweep late, measured all the same", async () => {
    const { probe, probeId } = await sendProbe();
    const sentAtMs = (await stored(probeId)).sentAtMs;
    shell.clock.advance(DEADLINE_SECONDS * 1000 + 1);
    await shell.runCycle();
    expect((await stored(probeId)).state).toBe("lost");

    shell.clock.advance(TRANSIT_MS);
    const { arrivedAtMs } = await shell.deliverInbound(returnOf(shell, probe), RETURN_ENVELOPE);
    const late = await stored(probeId);
    expect(late).toMatchObject({ state: "late", returnedAtMs: arrivedAtMs, rttMs: arrivedAtMs - sentAtMs });
    const completed = roundTripsOf(shell, probeId);
    expect(completed.map((event) => event.data.outcome).sort()).toEqual(["late", "lost"]);
    expect(completed.find((event) => event.data.outcome === "late")?.id).toBe(roundTripEventId(late));
  });

  it("marks a probe bounced by a DSN that carries its token, with the status and diagnostic", async () => {
    const { probe, probeId } = await sendProbe();
    shell.clock.advance(TRANSIT_MS);
    await shell.deliverInbound(bounceOf(probe), bounceEnvelope(probe));

    const bounced = await stored(probeId);
    expect(bounced).toMatchObject({
      state: "bounced",
      bounce: { status: "5.1.1", diagnostic: 'X-Postfix; unknown user: "nobody"', action: "failed" },
    });
    const completed = roundTripsOf(shell, probeId);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      id: roundTripEventId(bounced),
      data: { outcome: "bounced", status: "CRITICAL", bounce: { status: "5.1.1" } },
    });
  });

  it("leaves a probe sent on a DSN that says delivery is still being retried", async () => {
    const { probe, probeId } = await sendProbe();
    const before = await stored(probeId);
    shell.clock.advance(TRANSIT_MS);
    await shell.deliverInbound(bounceOf(probe, "postfix-4.4.1-delayed.eml"), bounceEnvelope(probe));
    expect(await stored(probeId)).toEqual(before);
    expect(roundTripsOf(shell, probeId)).toEqual([]);
  });

  const hostile: {
    name: string;
    mail: (shell: ShellRuntime, probe: SentProbe) => Buffer;
    reason: RejectReason;
  }[] = [
    { name: "a return signed with another key", mail: forgedReturnOf, reason: "token-bad-signature" },
    { name: "a return without a token", mail: tokenlessReturnOf, reason: "no-token" },
    { name: "malformed mail", mail: () => malformedMail(), reason: "malformed-mail" },
  ];

  it.each(hostile)("rejects $name, counts it as $reason, and changes nothing", async ({ mail, reason }) => {
    const { probe, probeId } = await sendProbe();
    const before = await stored(probeId);
    const queuedBefore = shell.queuedEvents();
    shell.clock.advance(TRANSIT_MS);
    await shell.deliverInbound(mail(shell, probe), RETURN_ENVELOPE);

    expect(await stored(probeId)).toEqual(before);
    expect(await shell.stores.probes.rejectionCounts(before.sentAtMs)).toEqual({ [reason]: 1 });
    expect(shell.queuedEvents()).toEqual(queuedBefore);
  });

  it("loses nothing when the queue refuses: the outcome is stored, and the next cycle queues it under the same id", async () => {
    const { probe, probeId } = await sendProbe();
    shell.clock.advance(TRANSIT_MS);
    await shell.refuseQueue(true);
    await shell.deliverInbound(returnOf(shell, probe), RETURN_ENVELOPE);
    const returned = await stored(probeId);
    expect(returned).toMatchObject({ state: "returned", rttMs: TRANSIT_MS });
    expect(roundTripsOf(shell, probeId)).toEqual([]);

    await shell.refuseQueue(false);
    await shell.runCycle();
    await shell.runCycle();
    expect(roundTripsOf(shell, probeId).map((event) => [event.id, event.data.outcome])).toEqual([
      [roundTripEventId(returned), "returned"],
    ]);
  });
});
