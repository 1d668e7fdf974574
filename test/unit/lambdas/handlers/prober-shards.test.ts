import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { beforeEach, describe, expect, it } from "vitest";
import { shardOfTarget } from "../../../../core/cycle/shards.ts";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { ROUND_TRIP_SUBJECT } from "../../../../core/events/status-changed.ts";
import type { ProberShardEvent } from "../../../../lambdas/events/prober-event.ts";
import { captureEmf, metricPoints } from "../../../support/emf-capture.ts";
import {
  DEADLINE_S,
  deployment,
  queuedEvents,
  refusedPort,
  sentProbes,
  sqs,
  useHandlerStandIns,
} from "../../../support/handlers-fixture.ts";

/*
 * The prober in two shards on the stand-ins (handlers-fixture.ts): two containers, each run with
 * its shard's event as the stack's rule targets send it (lib/constructs/prober-schedule.ts), side
 * by side on one pair of tables, as EventBridge starts them on each tick.
 */
useHandlerStandIns();

const SHARDS = 2;
const TARGET_IDS = ["mx1", "mx2", "mx3", "mx4", "mx5", "mx6"];
/** Every target has two endpoints (both refused: quick) and all but mx6 a probe; every result counts at once. */
const PROBED = TARGET_IDS.filter((id) => id !== "mx6");
const ENDPOINTS = TARGET_IDS.length * 2;
// A function: the refused port is known once the stand-ins have started.
const targets = () =>
  TARGET_IDS.map((id) => ({
    id,
    confirmAfter: 1,
    endpoints: [{ url: `smtp://127.0.0.1:${refusedPort}` }, { url: `imap://127.0.0.1:${refusedPort}` }],
    ...(PROBED.includes(id) ? { probe: { to: `probe@${id}.example.com` } } : {}),
  }));
const ownTargets = (shard: number) => TARGET_IDS.filter((id) => shardOfTarget(id, SHARDS) === shard);

function shardEvent(shard: number, nowMs: number): ProberShardEvent {
  return {
    shard,
    shards: SHARDS,
    time: new Date(nowMs).toISOString().replace(/\.\d+Z$/, "Z"),
    id: `tick-${nowMs}`,
  };
}

describe("the prober in two shards", () => {
  let nowMs: number;
  let shard0: Awaited<ReturnType<typeof deployment>>["prober"];
  let shard1: typeof shard0;
  let stores: Awaited<ReturnType<typeof deployment>>;

  beforeEach(async () => {
    nowMs = Date.now();
    stores = await deployment({ clock: { now: () => nowMs }, targets: targets() });
    shard0 = stores.prober;
    shard1 = stores.newProber();
  });

  /** One tick: both shards at once, in their own containers. */
  async function tick() {
    const run = await captureEmf(() =>
      Promise.all([shard0(shardEvent(0, nowMs)), shard1(shardEvent(1, nowMs))]),
    );
    return { summaries: run.result, metrics: metricPoints(run.lines) };
  }

  it("splits the targets: both shards hold some, and between them every target", () => {
    expect(ownTargets(0).length).toBeGreaterThan(0);
    expect(ownTargets(1).length).toBeGreaterThan(0);
    expect([...ownTargets(0), ...ownTargets(1)].sort()).toEqual(TARGET_IDS);
  });

  it("checks every endpoint once and sends one probe per round-trip target, each shard its own", async () => {
    const { summaries } = await tick();

    expect(summaries.map((summary) => summary.checks)).toEqual(
      [0, 1].map((shard) => ownTargets(shard).length * 2),
    );
    expect(summaries.map((summary) => summary.probesSent)).toEqual(
      [0, 1].map((shard) => ownTargets(shard).filter((id) => PROBED.includes(id)).length),
    );
    expect(summaries.flatMap((summary) => summary.errors)).toEqual([]);

    const latest = await stores.checks.latestCheckResults();
    expect(latest).toHaveLength(ENDPOINTS);
    expect(new Set(latest.map((entry) => `${entry.targetId} ${entry.result.endpoint}`)).size).toBe(ENDPOINTS);
    const completed = queuedEvents().filter(([type]) => type === "check.completed");
    expect(completed.map(([, target]) => target).sort()).toEqual(TARGET_IDS.flatMap((id) => [id, id]));

    expect(sentProbes()).toHaveLength(PROBED.length);
    for (const id of TARGET_IDS) {
      expect(await stores.probes.recent(id, 0, 10), id).toHaveLength(PROBED.includes(id) ? 1 : 0);
    }
  });

  it("sweeps each overdue probe to lost once, builds its events once, and counts it once", async () => {
    await tick();
    const sent = new Map(
      await Promise.all(
        PROBED.map(async (id) => [id, (await stores.probes.recent(id, 0, 1))[0]?.probeId] as const),
      ),
    );
    sqs.resetHistory();
    nowMs += DEADLINE_S * 1000 + 1;

    const { summaries, metrics } = await tick();

    expect(summaries.map((summary) => summary.lost)).toEqual(
      [0, 1].map((shard) => ownTargets(shard).filter((id) => PROBED.includes(id)).length),
    );
    for (const [id, probeId] of sent) {
      expect(await stores.probes.get(probeId ?? ""), id).toMatchObject({ state: "lost", updatedAtMs: nowMs });
    }
    const lost = queuedEvents().filter(
      ([type, , outcome]) => type === "roundtrip.completed" && outcome === "lost",
    );
    expect(lost.map(([, target]) => target).sort()).toEqual(PROBED);
    // The round trip's status, built by the shard that moved the probe: one change per target.
    const roundTripChanges = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((entry) => JSON.parse(entry.MessageBody ?? "{}") as ScoutEvent)
      .filter((event) => event.type === "status.changed" && event.data.subject === ROUND_TRIP_SUBJECT);
    expect(roundTripChanges.map((event) => event.target).sort()).toEqual(PROBED);
    const lostCounts = metrics.filter((point) => point.name === "ProbeLost");
    expect(lostCounts.map((point) => [point.dimensions.Target, point.value]).sort()).toEqual(
      PROBED.map((id) => [id, 1]),
    );
  });

  it("announces what a refused queue left once, by the shard that owns each probe", async () => {
    await tick();
    nowMs += DEADLINE_S * 1000 + 1;
    sqs.reset();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    await tick();
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });

    nowMs += 60_000;
    const { summaries } = await tick();

    expect(summaries.map((summary) => summary.reannounced)).toEqual(
      [0, 1].map((shard) => ownTargets(shard).filter((id) => PROBED.includes(id)).length),
    );
    const lost = queuedEvents().filter(
      ([type, , outcome]) => type === "roundtrip.completed" && outcome === "lost",
    );
    expect(lost.map(([, target]) => target).sort()).toEqual(PROBED);
  });

  it("writes only its own targets' statuses, though it reads every status in one Query", async () => {
    const subjectsOf = async () =>
      new Map(
        (await stores.statuses.listStatuses()).map((status) => [
          `${status.targetId} ${status.subject}`,
          status,
        ]),
      );
    await captureEmf(() => shard0(shardEvent(0, nowMs)));
    const afterShard0 = await subjectsOf();
    expect(new Set([...afterShard0.values()].map((status) => status.targetId))).toEqual(
      new Set(ownTargets(0)),
    );

    nowMs += 60_000;
    await captureEmf(() => shard1(shardEvent(1, nowMs)));
    const afterBoth = await subjectsOf();
    expect(new Set([...afterBoth.values()].map((status) => status.targetId))).toEqual(new Set(TARGET_IDS));
    // Shard 0's records are as shard 0 left them: same revision, same time.
    for (const [key, status] of afterShard0) expect(afterBoth.get(key), key).toEqual(status);
    expect([...afterBoth.values()].some((status) => status.subject === ROUND_TRIP_SUBJECT)).toBe(false);
  });
});
