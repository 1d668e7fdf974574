import { type Fault, healthyAgain, type Verdict } from "./fault.ts";
import type { Harness } from "./harness.ts";
import { mailHost } from "./mail-host.ts";

/** One line of the report. */
export interface FaultReport {
  readonly id: string;
  readonly title: string;
  readonly expected: string;
  readonly observed: string;
  readonly passed: boolean;
  readonly problems: readonly string[];
  /** From the end of the injection to the event that completed detection. */
  readonly detectMs?: number;
  readonly detectCycles?: number;
  /** From the end of the restore to the event that completed recovery. */
  readonly recoverMs?: number;
  readonly recoverCycles?: number;
}

const BASELINE_CYCLES = 3;

/**
 * Injects one fault into the real host, runs cycles until the monitor names it (or the cycle
 * budget is spent), restores the host (always, in a finally; `demo-mailhost.sh up` if the
 * fault's own restore fails), then runs cycles until the monitor reports it healthy again.
 */
export async function runFault(harness: Harness, fault: Fault): Promise<FaultReport> {
  const problems: string[] = [];
  const base = { id: fault.id, title: fault.title, expected: fault.expected };
  if (!(await becomeHealthy(harness))) {
    return {
      ...base,
      observed: `host not healthy before injection (not OK: ${harness.recorder.notOk().join(", ") || "no returned probe"})`,
      passed: false,
      problems: ["not healthy before injection"],
    };
  }
  const budget = harness.confirmAfter + 1;
  let injectedAtMs = Date.now();
  let detection: Verdict = { met: false, observed: "not injected" };
  let detectCycles = 0;
  try {
    await fault.inject(harness);
    injectedAtMs = Date.now();
    const detectBudget = Math.max(fault.detectCycles ?? budget, fault.minCycles ?? 1);
    for (let cycle = 1; cycle <= detectBudget; cycle++) {
      await harness.cycle();
      const verdict = await fault.detected(harness.recorder.since(injectedAtMs), harness);
      // The first cycle that met it dates the detection; later ones only keep the fault longer.
      if (!detection.met || !verdict.met) detection = verdict;
      if (verdict.met && detectCycles === 0) detectCycles = cycle;
      if (detection.met && cycle >= (fault.minCycles ?? 1)) break;
    }
  } catch (error) {
    problems.push(`injection failed: ${(error as Error).message}`);
  } finally {
    await restoreHost(harness, fault, problems);
  }
  const during = harness.recorder.since(injectedAtMs);
  const restoredAtMs = Date.now();
  const recoverBudget = fault.recoverCycles ?? budget;
  let recovery: Verdict = { met: false, observed: "no recovery cycle ran" };
  let recoverCycles = 0;
  try {
    for (recoverCycles = 1; recoverCycles <= recoverBudget; recoverCycles++) {
      await fault.beforeRecoveryCycle?.(harness);
      await harness.cycle();
      const after = harness.recorder.since(restoredAtMs);
      recovery = await (fault.recovered ?? healthyAgain)(after, harness, during);
      if (recovery.met) break;
    }
  } catch (error) {
    problems.push(`recovery cycle failed: ${(error as Error).message}`);
  }
  problems.push(...(detection.problems ?? []), ...(recovery.problems ?? []));
  if (!detection.met || detectCycles > (fault.detectCycles ?? budget)) {
    problems.push(`not detected within ${fault.detectCycles ?? budget} cycles`);
  }
  if (!recovery.met) problems.push(`not recovered within ${recoverBudget} cycles`);
  return {
    ...base,
    observed: `${detection.observed}. After the fix: ${recovery.observed}`,
    passed: problems.length === 0,
    problems,
    ...(detection.met
      ? { detectMs: Math.max(0, (detection.atMs ?? Date.now()) - injectedAtMs), detectCycles }
      : {}),
    ...(recovery.met
      ? { recoverMs: Math.max(0, (recovery.atMs ?? Date.now()) - restoredAtMs), recoverCycles }
      : {}),
  };
}

async function restoreHost(harness: Harness, fault: Fault, problems: string[]): Promise<void> {
  try {
    await fault.restore(harness);
  } catch (error) {
    problems.push(`restore failed (${(error as Error).message}); restored with demo-mailhost.sh up`);
    mailHost("up");
    harness.reinstallReturn();
    await harness.monitor.resumeInbound();
    await harness.sink.reopen();
  }
}

/**
 * Runs cycles until every subject is OK and the cycle's probe came back; if that does not
 * happen, restores the whole host once with `demo-mailhost.sh up` and tries again.
 */
async function becomeHealthy(harness: Harness): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    for (let i = 0; i < BASELINE_CYCLES; i++) {
      const { startedMs } = await harness.cycle();
      const returned = harness.recorder
        .since(startedMs)
        .roundTrips.some((r) => r.outcome === "returned" && r.status === "OK");
      if (returned && harness.recorder.notOk().length === 0) return true;
    }
    mailHost("up");
    harness.reinstallReturn();
  }
  return false;
}
