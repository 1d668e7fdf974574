import { performance } from "node:perf_hooks";

/** What one task reports: success, or the reason it failed. */
export type Outcome = { ok: true } | { ok: false; error: string };

export interface Throughput {
  readonly concurrency: number;
  readonly checks: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly errors: string[];
  /** CPU per check of the checking process during the batch, ms, where it can be measured. */
  readonly cpuMsPerCheck?: number;
}

/** Runs `total` tasks with at most `concurrency` in flight and measures the wall time. */
export async function runPool(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<Outcome>,
): Promise<Throughput> {
  const errors: string[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    for (let index = next++; index < total; index = next++) {
      const outcome = await task(index).catch(
        (error: unknown): Outcome => ({ ok: false, error: String(error) }),
      );
      if (!outcome.ok) errors.push(outcome.error);
    }
  }
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { concurrency, checks: total, seconds, perSecond: total / seconds, errors };
}

/**
 * One figure from several rounds of the same batch: all checks over all the wall time, CPU
 * weighted by checks. Rounds of the tools are interleaved by the caller, so a slow spell of the
 * machine falls on every tool alike instead of on whichever ran then.
 */
export function pooled(rounds: readonly Throughput[]): Throughput {
  const first = rounds[0];
  if (first === undefined) throw new Error("pooled() needs at least one round");
  const checks = rounds.reduce((sum, r) => sum + r.checks, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const withCpu = rounds.filter((r) => r.cpuMsPerCheck !== undefined);
  const cpuChecks = withCpu.reduce((sum, r) => sum + r.checks, 0);
  return {
    concurrency: first.concurrency,
    checks,
    seconds,
    perSecond: checks / seconds,
    errors: rounds.flatMap((r) => r.errors),
    ...(withCpu.length === rounds.length && cpuChecks > 0
      ? {
          cpuMsPerCheck:
            withCpu.reduce((sum, r) => sum + (r.cpuMsPerCheck as number) * r.checks, 0) / cpuChecks,
        }
      : {}),
  };
}
