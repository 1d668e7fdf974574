import { describeError } from "../basics/describe-error.ts";
import { type EventBatch, eventBatchFor } from "../events/event-batch.ts";
import type { LogFields } from "../ports/logger.ts";
import type { CycleError, CyclePorts, CycleSummary } from "./cycle-ports.ts";

/** One cycle in progress: its ports, its events, and what it has done so far. */
export interface CycleRun {
  readonly ports: CyclePorts;
  /** When the cycle began (the ports' clock). */
  readonly startMs: number;
  readonly batch: EventBatch;
  readonly summary: CycleSummary;
}

export function startCycleRun(ports: CyclePorts): CycleRun {
  return {
    ports,
    startMs: ports.clock.now(),
    batch: eventBatchFor(ports),
    summary: {
      checks: 0,
      notOk: 0,
      probesSent: 0,
      sendFailed: 0,
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
