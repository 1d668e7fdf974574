import { describeError } from "../basics/describe-error.ts";
import { type EventBatch, eventBatchFor } from "../events/event-batch.ts";
import type { JobConfig } from "../ports/job-ports.ts";
import type { LogFields } from "../ports/logger.ts";
import type { CycleError, CyclePorts, CycleSummary } from "./cycle-ports.ts";
import { ALL_TARGETS, shardOfTarget, targetsOfShard } from "./shards.ts";

/** One cycle in progress: its ports, its events, and what it has done so far. */
export interface CycleRun {
  readonly ports: CyclePorts;
  /** When the cycle began (the ports' clock). */
  readonly startMs: number;
  readonly batch: EventBatch;
  readonly summary: CycleSummary;
  /** The targets this run checks and probes: its shard's. */
  readonly targets: JobConfig["targets"];
  /**
   * Whether a probe of this target id is this run's to sweep and announce. By the id's hash, not
   * by the configured targets: the probes of a target since removed still have one owner.
   */
  readonly owns: (targetId: string) => boolean;
}

export function startCycleRun(ports: CyclePorts): CycleRun {
  const { index, count } = ports.shard ?? ALL_TARGETS;
  return {
    ports,
    startMs: ports.clock.now(),
    targets: targetsOfShard(ports.config.targets, index, count),
    owns: (targetId) => shardOfTarget(targetId, count) === index,
    batch: eventBatchFor(ports),
    summary: {
      checks: 0,
      notOk: 0,
      postureChecks: 0,
      probesSent: 0,
      sendFailed: 0,
      delivered: 0,
      lost: 0,
      reannounced: 0,
      events: 0,
      errors: [],
    },
  };
}

/** A step's failure: kept in the summary and logged (with `fields`); the cycle goes on. */
export function recordCycleError(
  run: CycleRun,
  where: Omit<CycleError, "error">,
  message: string,
  error: unknown,
  fields: LogFields = {},
): void {
  const text = describeError(error);
  run.summary.errors.push({ ...where, error: text });
  const target = where.target === undefined ? {} : { target: where.target };
  run.ports.log.error(message, { ...target, ...fields, error: text });
}

/** Builds a step's events; a failure (the status store) is recorded and the cycle goes on. */
export async function addEvents(run: CycleRun, target: string, build: () => Promise<void>): Promise<void> {
  try {
    await build();
  } catch (error) {
    recordCycleError(run, { step: "events", target }, "cannot build events", error);
  }
}
