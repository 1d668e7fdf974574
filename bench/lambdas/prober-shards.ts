/*
 * The prober in shards: a fleet too large for one invocation (10,000 endpoints, 2,000 targets
 * with a probe each), split as the stack splits it (lib/config/prober-shards.ts, one rule target
 * per shard), each shard run as its own container would run it: its event, the fleet's config,
 * the fleet's tables. This machine has 2 cores, so the shards run one after another and every
 * figure is per shard; on AWS they run side by side.
 */
import { parseAwsConfigText } from "../../core/config/parse-config.ts";
import { shardOfTarget } from "../../core/cycle/shards.ts";
import type { ProberShardEvent } from "../../lambdas/events/prober-event.ts";
import { AWS_DEFAULTS } from "../../lib/config/aws-defaults.ts";
import { proberShardCount } from "../../lib/config/prober-shards.ts";
import { fmt } from "../stats.ts";
import type { Bundle } from "./bundle.ts";
import { table, verdict } from "./markdown.ts";
import { runProberAtScale, type ScaleRun, type StandInProcess } from "./prober-scale.ts";
import { scaleConfig } from "./scale-config.ts";

/** Lambda's arm64 price in us-east-1 (first tier), USD, and its monthly request price: see docs/aws.md. */
export const ARM64_PRICE_PER_GB_SECOND = 0.0000133334;
export const PRICE_PER_MILLION_REQUESTS = 0.2;
/** A month of 730 hours, in seconds. */
const MONTH_S = 730 * 3600;

export interface ShardRun {
  readonly shard: number;
  readonly endpoints: number;
  readonly probedTargets: number;
  readonly first: ScaleRun;
  readonly next: ScaleRun;
}

export interface ShardFleet {
  readonly endpoints: number;
  readonly probedTargets: number;
  readonly shards: number;
  readonly concurrency: number;
  readonly memoryMb: number;
  readonly runs: ShardRun[];
}

/** Every shard of the fleet, one after another, each two invocations (first on its tables, then the next). */
export async function runShardFleet(options: {
  readonly prober: Bundle;
  readonly harness: string;
  readonly standIns: StandInProcess;
  readonly caFile: string;
  readonly endpoints: number;
  readonly endpointsPerTarget: number;
  readonly concurrency: number;
  readonly intervalSeconds: number;
  readonly log: (line: string) => void;
}): Promise<ShardFleet> {
  const config = scaleConfig({
    standIns: options.standIns.standIns,
    endpoints: options.endpoints,
    endpointsPerTarget: options.endpointsPerTarget,
    checkConcurrency: options.concurrency,
    intervalSeconds: options.intervalSeconds,
    caFile: options.caFile,
  });
  const { targets, aws } = parseAwsConfigText(JSON.stringify(config), "the fleet's config");
  const shards = proberShardCount({ targets, aws });
  const tables = await options.standIns.freshTables();
  const runs: ShardRun[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const own = targets.filter((target) => shardOfTarget(target.id, shards) === shard);
    const checks = own.reduce((sum, target) => sum + target.endpoints.length, 0);
    const event: ProberShardEvent = { shard, shards, time: "2026-06-01T12:00:00Z", id: "bench-tick" };
    options.log(`prober shard ${shard} of ${shards}: ${checks} endpoints, ${own.length} probed targets`);
    const [first, next] = await runProberAtScale({
      prober: options.prober,
      harness: options.harness,
      standIns: options.standIns,
      caFile: options.caFile,
      endpoints: options.endpoints,
      concurrency: options.concurrency,
      intervalSeconds: options.intervalSeconds,
      store: "dynalite",
      shard: { event: JSON.stringify(event), config, tables, checks },
    });
    if (first === undefined || next === undefined) throw new Error(`shard ${shard} did not run twice`);
    for (const run of [first, next]) {
      if (run.run.summary.probesSent !== own.length) {
        throw new Error(`shard ${shard} sent ${run.run.summary.probesSent} probes, not ${own.length}`);
      }
    }
    runs.push({ shard, endpoints: checks, probedTargets: own.length, first, next });
  }
  return {
    endpoints: options.endpoints,
    probedTargets: targets.length,
    shards,
    concurrency: options.concurrency,
    memoryMb: AWS_DEFAULTS.proberMemoryMb,
    runs,
  };
}

/** The Markdown section: one row per shard, then what the fleet costs a month. */
export function shardSection(fleet: ShardFleet, intervalS: number, intervalShareTarget: number): string[] {
  const vcpu = fleet.memoryMb / 1769;
  const floorS = (run: ScaleRun) => run.run.cpuMs / 1000 / vcpu;
  const rows = fleet.runs.map(({ shard, endpoints, probedTargets, first, next }) => {
    const worstFloor = Math.max(floorS(first), floorS(next));
    const worstWall = Math.max(first.run.wallMs, next.run.wallMs) / 1000;
    const peakRss = Math.max(first.run.maxRssMb, next.run.maxRssMb);
    const errors = first.run.summary.errors + next.run.summary.errors;
    const fits =
      peakRss < fleet.memoryMb &&
      worstWall <= intervalS &&
      worstFloor / intervalS <= intervalShareTarget &&
      errors === 0;
    return [
      String(shard),
      String(endpoints),
      String(probedTargets),
      `${fmt(first.run.wallMs / 1000, 1)} / ${fmt(next.run.wallMs / 1000, 1)}`,
      `${fmt(first.run.cpuMs / 1000, 1)} / ${fmt(next.run.cpuMs / 1000, 1)}`,
      `${fmt(floorS(first), 0)} s = ${fmt((100 * floorS(first)) / intervalS, 0)} % / ${fmt(floorS(next), 0)} s = ${fmt((100 * floorS(next)) / intervalS, 0)} %`,
      fmt(peakRss, 0),
      String(errors),
      verdict(fits),
    ];
  });
  const runsPerMonth = MONTH_S / intervalS;
  const gbSecondsPerRun = fleet.runs.reduce(
    (sum, { next }) => sum + (fleet.memoryMb / 1024) * floorS(next),
    0,
  );
  const gbSecondsPerMonth = gbSecondsPerRun * runsPerMonth;
  const requestsPerMonth = fleet.shards * runsPerMonth;
  const durationUsd = gbSecondsPerMonth * ARM64_PRICE_PER_GB_SECOND;
  const requestsUsd = (requestsPerMonth / 1e6) * PRICE_PER_MILLION_REQUESTS;
  return [
    `## 6. Prober in shards: ${fleet.endpoints} endpoints, ${fleet.probedTargets} targets with a probe each, ${fleet.shards} shards`,
    "",
    ...table(
      [
        "shard",
        "endpoints",
        "probed targets",
        "wall s, first / next",
        "CPU s, first / next",
        `CPU floor at ${fleet.memoryMb} MB, of ${intervalS} s interval, first / next`,
        `peak RSS MB (of ${fleet.memoryMb})`,
        "errors",
        `target: within the interval, CPU floor <= ${100 * intervalShareTarget} %, < ${fleet.memoryMb} MB`,
      ],
      rows,
    ),
    "",
    `${fleet.shards} shards (aws.proberShards left out: one per 1,000 endpoints), checkConcurrency ${fleet.concurrency},`,
    `aws.proberMemoryMb ${fleet.memoryMb}. Each shard is one container's two invocations (first on tables the`,
    "earlier shards have filled, then the next, as every later tick), on the fleet's config and tables, with",
    "its rule target's event; the same servers and stand-ins as section 3. This machine has 2 cores, so the",
    "shards ran one after another and each figure is that shard's alone; on AWS EventBridge starts them",
    "side by side, each in its own container. Every shard reads all statuses in its one Query and writes",
    "only its own targets'.",
    "",
    `What it costs at a ${intervalS} s interval (${fmt(runsPerMonth, 0)} runs a month), taking each shard's duration`,
    "as its CPU floor in the next run (a lower bound: waits for slow servers add to it):",
    "",
    ...table(
      [
        "shards",
        "GB-s per run",
        "GB-s per month",
        "USD per month, duration (arm64)",
        "requests per month",
        "USD, requests",
      ],
      [
        [
          String(fleet.shards),
          fmt(gbSecondsPerRun, 1),
          fmt(gbSecondsPerMonth, 0),
          fmt(durationUsd, 2),
          fmt(requestsPerMonth, 0),
          fmt(requestsUsd, 2),
        ],
      ],
    ),
    "",
    `Prices: ${ARM64_PRICE_PER_GB_SECOND} USD per GB-second (Lambda arm64, us-east-1, first 7.5 billion GB-s a`,
    `month) and ${PRICE_PER_MILLION_REQUESTS} USD per million requests; free tier left out.`,
  ];
}
