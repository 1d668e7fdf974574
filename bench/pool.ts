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
