import { mapBounded } from "../basics/map-bounded.ts";
import { checkMany } from "../checks/check-many.ts";
import type { CheckResult } from "../checks/result.ts";
import { logCheckResult } from "./check-log.ts";
import type { PlannedCheck } from "./check-plan.ts";
import { DEFAULT_STORE_CONCURRENCY } from "./cycle-ports.ts";
import { addEvents, type CycleRun, recordCycleError } from "./cycle-run.ts";

export interface TargetResult {
  readonly targetId: string;
  readonly result: CheckResult;
}

/** Every service check of every target (bounded concurrency), stored, reported, and turned into events. */
export async function runChecks(run: CycleRun): Promise<void> {
  const { ports, summary } = run;
  let planned: PlannedCheck[];
  try {
    planned = await ports.planChecks(run.targets);
  } catch (error) {
    recordCycleError(run, { step: "plan" }, "cannot plan the service checks", error);
    return;
  }
  const results = await checkMany(
    planned.map((check) => ({ endpoint: check.endpoint, options: check.options })),
    {
      concurrency: ports.config.schedule.checkConcurrency,
      ...(ports.onCheckResult ? { onResult: ports.onCheckResult } : {}),
    },
  );
  summary.checks = results.length;
  summary.notOk = results.filter((result) => result.status !== "OK").length;
  const entries: TargetResult[] = results.map((result, index) => ({
    targetId: (planned[index] as PlannedCheck).targetId,
    result,
  }));
  await recordResults(run, entries);
}

/**
 * What becomes of every check result, a service check's or a posture check's: metrics and the
 * log line, the store, and the events (check.completed, status.changed after flap control).
 */
export async function recordResults(run: CycleRun, entries: readonly TargetResult[]): Promise<void> {
  const { ports } = run;
  const byTarget = new Map<string, CheckResult[]>();
  for (const { targetId, result } of entries) {
    ports.metrics.checkCompleted(targetId, result);
    logCheckResult(ports.log, targetId, result);
    const targetResults = byTarget.get(targetId);
    if (targetResults === undefined) byTarget.set(targetId, [result]);
    else targetResults.push(result);
  }
  const concurrency = ports.storeConcurrency ?? DEFAULT_STORE_CONCURRENCY;
  await Promise.all([
    storeChecks(run, entries, concurrency),
    // Targets in parallel: each has its own subjects, and one target's results go in order.
    mapBounded([...byTarget], concurrency, ([targetId, targetResults]) =>
      addEvents(run, targetId, () => run.batch.addChecks(targetId, targetResults)),
    ),
  ]);
}

/**
 * Stores the results in batched writes. A store may write the latest-result records
 * unconditionally (DynamoDB batches cannot be conditional) only while no later cycle can have
 * stored newer ones: a cycle starts once per interval, so during the first half of this
 * cycle's interval none has.
 */
async function storeChecks(
  run: CycleRun,
  entries: readonly TargetResult[],
  concurrency: number,
): Promise<void> {
  const { ports } = run;
  const intervalMs = ports.config.schedule.intervalSeconds * 1000;
  let errors: readonly unknown[];
  try {
    errors = await ports.checks.saveCheckResults(entries, {
      concurrency,
      latestUnconditionally: () => ports.clock.now() - run.startMs < intervalMs / 2,
    });
  } catch (error) {
    errors = entries.map(() => error);
  }
  errors.forEach((error, index) => {
    if (error === undefined) return;
    const { targetId, result } = entries[index] as TargetResult;
    recordCycleError(run, { step: "store-check", target: targetId }, "cannot store a check result", error, {
      endpoint: result.endpoint,
    });
  });
}
