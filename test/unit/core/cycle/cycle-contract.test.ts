import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { roundTripEventId } from "../../../../core/events/roundtrip-completed.ts";
import { ROUND_TRIP_SUBJECT } from "../../../../core/events/status-changed.ts";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { verifyProbeToken } from "../../../../core/wire/probe-token.ts";
import { probeIdOf, tokenOf } from "../../../support/shell-mail.ts";
import { awsRuntime } from "../../../support/shell-runtime-aws.ts";
import { localRuntime } from "../../../support/shell-runtime-local.ts";
import {
  CHECKED_CONFIRM_AFTER,
  CHECKED_TARGET,
  DEADLINE_SECONDS,
  INBOUND_DOMAIN,
  latestResultsOf,
  PROBE_MAILBOX,
  PROBED_TARGET,
  type ShellRuntime,
} from "../../../support/shell-runtimes.ts";

/*
 * The scheduled cycle (service checks -> one probe per round-trip target -> sweep of overdue
 * probes), one contract for both shells: local mode (LocalMonitor on SQLite and its outbox) and
 * AWS (the prober handler on DynamoDB and SQS). See test/support/shell-runtimes.ts.
 */

const DEADLINE_MS = DEADLINE_SECONDS * 1000;

function eventsOf(shell: ShellRuntime, type: string, match: (event: ScoutEvent) => boolean = () => true) {
  return shell.queuedEvents().filter((event) => event.type === type && match(event));
}

const ofProbe = (probeId: string) => (event: ScoutEvent) => event.data.probeId === probeId;
const ofSubject = (targetId: string, subject: string) => (event: ScoutEvent) =>
  event.target === targetId && event.data.subject === subject;

/** The one probe of PROBED_TARGET in the store (the newest, when there are several). */
async function newestProbe(shell: ShellRuntime): Promise<ProbeRecord> {
  const [probe] = await shell.probes(PROBED_TARGET);
  if (probe === undefined) throw new Error(`no probe of ${PROBED_TARGET} is stored`);
  return probe;
}

describe.each([
  { name: "local", start: localRuntime },
  { name: "aws", start: awsRuntime },
])("the cycle on $name", ({ start }) => {
  let shell: ShellRuntime;
  beforeEach(async () => {
    shell = await start();
  });
  afterEach(async () => {
    await shell?.close();
  });

  it("stores each check result and queues one check.completed per endpoint", async () => {
    await shell.runCycle();
    const { answering, refusing } = shell.endpoints;
    const latest = await latestResultsOf(shell, CHECKED_TARGET);
    expect([...latest.keys()].sort()).toEqual([answering, refusing].sort());
    expect(latest.get(answering)).toMatchObject({ status: "OK", reason: "ok" });
    expect(latest.get(refusing)).toMatchObject({ status: "CRITICAL", reason: "refused" });
    for (const endpoint of [answering, refusing]) {
      expect(await shell.stores.checks.checkHistory(CHECKED_TARGET, endpoint, 0, 10)).toHaveLength(1);
    }

    const completed = eventsOf(shell, "check.completed");
    expect(completed.map((event) => [event.target, event.data.endpoint, event.data.status]).sort()).toEqual(
      [
        [CHECKED_TARGET, answering, "OK"],
        [CHECKED_TARGET, refusing, "CRITICAL"],
      ].sort(),
    );
  });

  it("runs the open relay test the config asks for, on that endpoint only", async () => {
    await shell.runCycle();
    const latest = await latestResultsOf(shell, CHECKED_TARGET);
    const answering = latest.get(shell.endpoints.answering);
    expect(answering).toMatchObject({ status: "OK", openRelay: "refused" });
    expect(answering?.relayTest?.reply).toBe("554 5.7.1 <relay-test@example.com>: Relay access denied");
    expect(latest.get(shell.endpoints.refusing)).not.toHaveProperty("openRelay");
  });

  it("sends one probe per round-trip target with a valid token, and records it sent", async () => {
    await shell.runCycle();
    const sent = shell.sentProbes();
    expect(sent).toHaveLength(1);
    const [probe] = sent;
    if (probe === undefined) throw new Error("no probe was sent");
    const probeId = probeIdOf(probe);
    expect(probe.envelope).toEqual({ from: `bounces+${probeId}@${INBOUND_DOMAIN}`, to: [PROBE_MAILBOX] });

    const token = verifyProbeToken(tokenOf(probe), shell.probeKey.key, {
      nowMs: shell.clock.now(),
      maxAgeMs: DEADLINE_MS,
      maxFutureSkewMs: 0,
    });
    expect(token).toMatchObject({ probeId, targetId: PROBED_TARGET, sentAtMs: shell.clock.now() });
    expect(await shell.stores.probes.get(probeId)).toMatchObject({
      state: "sent",
      targetId: PROBED_TARGET,
      toAddress: PROBE_MAILBOX,
      sentAtMs: token.sentAtMs,
      deadlineMs: token.sentAtMs + DEADLINE_MS,
    });
    expect(eventsOf(shell, "roundtrip.completed")).toEqual([]);
  });

  it("sweeps a probe past its deadline to lost and queues its roundtrip.completed once", async () => {
    await shell.runCycle();
    const sent = await newestProbe(shell);
    shell.clock.advance(DEADLINE_MS + 1);
    await shell.runCycle();
    await shell.runCycle();

    const lost = await shell.stores.probes.get(sent.probeId);
    expect(lost).toMatchObject({ state: "lost", updatedAtMs: shell.clock.now() });
    const completed = eventsOf(shell, "roundtrip.completed", ofProbe(sent.probeId));
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      id: roundTripEventId(lost as ProbeRecord),
      target: PROBED_TARGET,
      data: { outcome: "lost", status: "CRITICAL", reason: "lost" },
    });
    // The probe the later cycles sent is not due yet.
    expect((await newestProbe(shell)).state).toBe("sent");
  });

  it("announces a status change only once confirmAfter results agree, and only once", async () => {
    const { answering, refusing } = shell.endpoints;
    await shell.runCycle();
    expect(await shell.statusOf(CHECKED_TARGET, refusing)).toMatchObject({
      status: "OK",
      pendingStatus: "CRITICAL",
      pendingCount: 1,
    });
    expect(eventsOf(shell, "status.changed")).toEqual([]);

    for (let cycle = 2; cycle <= CHECKED_CONFIRM_AFTER + 1; cycle++) await shell.runCycle();
    expect(await shell.statusOf(CHECKED_TARGET, refusing)).toMatchObject({
      status: "CRITICAL",
      reason: "refused",
    });
    expect(await shell.statusOf(CHECKED_TARGET, answering)).toMatchObject({ status: "OK" });
    const changed = eventsOf(shell, "status.changed");
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      target: CHECKED_TARGET,
      data: {
        subject: refusing,
        from: "OK",
        to: "CRITICAL",
        reason: "refused",
        confirmations: CHECKED_CONFIRM_AFTER,
      },
    });
  });

  it("queues a status.changed the queue refused with the next cycle, under the same id", async () => {
    const { refusing } = shell.endpoints;
    await shell.runCycle();
    await shell.refuseQueue(true);
    await shell.runCycle();
    const confirmed = await shell.statusOf(CHECKED_TARGET, refusing);
    expect(confirmed).toMatchObject({ status: "CRITICAL" });
    const [waiting, ...more] = confirmed?.unannounced ?? [];
    expect(more).toEqual([]);
    expect(eventsOf(shell, "status.changed")).toEqual([]);

    await shell.refuseQueue(false);
    await shell.runCycle();
    await shell.runCycle();
    const changed = eventsOf(shell, "status.changed", ofSubject(CHECKED_TARGET, refusing));
    expect(changed.map((event) => event.id)).toEqual([waiting?.eventId]);
    expect((await shell.statusOf(CHECKED_TARGET, refusing))?.unannounced ?? []).toEqual([]);
  });

  describe("with the queue refusing during the sweep", () => {
    /** Sends a probe, then sweeps it to lost while the queue refuses; returns it as stored. */
    async function sweptWhileRefused(): Promise<ProbeRecord> {
      await shell.runCycle();
      const sent = await newestProbe(shell);
      shell.clock.advance(DEADLINE_MS + 1);
      await shell.refuseQueue(true);
      await shell.runCycle();
      const lost = await shell.stores.probes.get(sent.probeId);
      expect(lost).toMatchObject({ state: "lost" });
      expect(eventsOf(shell, "roundtrip.completed")).toEqual([]);
      expect(eventsOf(shell, "status.changed")).toEqual([]);
      await shell.refuseQueue(false);
      return lost as ProbeRecord;
    }

    it("stores the lost outcome, and the next cycle queues its roundtrip.completed under the same id", async () => {
      const lost = await sweptWhileRefused();
      await shell.runCycle();
      await shell.runCycle();
      const completed = eventsOf(shell, "roundtrip.completed", ofProbe(lost.probeId));
      expect(completed.map((event) => [event.id, event.data.outcome])).toEqual([
        [roundTripEventId(lost), "lost"],
      ]);
    });

    it("keeps the round trip's status.changed, and the next cycle queues it under the id it was given", async () => {
      await sweptWhileRefused();
      const confirmed = await shell.statusOf(PROBED_TARGET, ROUND_TRIP_SUBJECT);
      expect(confirmed).toMatchObject({ status: "CRITICAL", reason: "lost" });
      const [waiting, ...more] = confirmed?.unannounced ?? [];
      expect(more).toEqual([]);

      await shell.runCycle();
      await shell.runCycle();
      const changed = eventsOf(shell, "status.changed", ofSubject(PROBED_TARGET, ROUND_TRIP_SUBJECT));
      expect(changed.map((event) => [event.id, event.data.to, event.data.reason])).toEqual([
        [waiting?.eventId, "CRITICAL", "lost"],
      ]);
    });
  });

  it("records a probe the relay refuses as send-failed and queues its roundtrip.completed", async () => {
    shell.refuseSends(true);
    await shell.runCycle();
    expect(shell.sentProbes()).toEqual([]);
    const failed = await newestProbe(shell);
    expect(failed).toMatchObject({ state: "send-failed", targetId: PROBED_TARGET });
    expect(failed.error).toEqual(expect.any(String));
    expect(failed.error).not.toBe("");

    const completed = eventsOf(shell, "roundtrip.completed", ofProbe(failed.probeId));
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      id: roundTripEventId(failed),
      data: { outcome: "send-failed", status: "CRITICAL", error: failed.error },
    });
  });
});
