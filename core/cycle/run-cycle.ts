import { runChecks } from "./check-step.ts";
import type { CyclePorts, CycleSummary } from "./cycle-ports.ts";
import { type CycleRun, recordCycleError, startCycleRun } from "./cycle-run.ts";
import { runPosture } from "./posture-step.ts";
import { sendProbes } from "./probe-step.ts";
import { announceLeftovers, sweepLost } from "./sweep-step.ts";

/**
 * One scheduled cycle, the same in both shells (the prober Lambda on an EventBridge schedule,
 * `serve` on a timer): outcomes earlier runs could not announce, then every service check, the
 * posture of each target whose posture is due, and one probe per round-trip target side by
 * side, then the sweep of overdue probes to lost; the cycle's events are published in one go
 * at the end. A failure of one step or target is recorded in the summary and logged; none
 * aborts the rest, and nothing here throws.
 */
export async function runCycle(ports: CyclePorts): Promise<CycleSummary> {
  const run = startCycleRun(ports);
  // First, so an outcome this cycle produces is never in its batch twice.
  await announceLeftovers(run);
  await Promise.all([runChecks(run), runPosture(run), sendProbes(run)]);
  await sweepLost(run);
  await publishCycleEvents(run);
  return run.summary;
}

/**
 * Sweeps overdue probes and publishes their events at once, outside a cycle: `serve --once`
 * waiting for its probes, and `serve` at start, which also announces what an earlier run left.
 */
export async function runSweep(
  ports: CyclePorts,
  options: { readonly announceLeftovers?: boolean } = {},
): Promise<CycleSummary> {
  const run = startCycleRun(ports);
  if (options.announceLeftovers) await announceLeftovers(run);
  await sweepLost(run);
  await publishCycleEvents(run);
  return run.summary;
}

/**
 * A refused queue loses nothing: status changes stay in their records and round-trip outcomes
 * stay unannounced in the probe store; both are offered again, under the same ids, next cycle.
 */
async function publishCycleEvents(run: CycleRun): Promise<void> {
  try {
    run.summary.events = await run.batch.publish();
  } catch (error) {
    recordCycleError(
      run,
      { step: "events" },
      "cannot queue events; status changes and round-trip outcomes are offered again next cycle",
      error,
    );
  }
}
