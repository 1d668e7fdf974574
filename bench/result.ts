import type { Throughput } from "./pool.ts";

/** What the sequential runs of one tool on one service found. */
export interface Sequential {
  /** Each successful run's own reported time, ms. */
  readonly timesMs: number[];
  /** CPU (user + system) per check, ms; undefined when it could not be measured. */
  readonly cpuMsPerCheck: number | undefined;
  readonly runs: number;
  /** One message per failed run. */
  readonly errors: string[];
}

/** One row of a service's table. */
export interface ToolResult {
  readonly tool: string;
  /** plain: our check doing only what a banner-only peer does (no TLS). */
  readonly role: "ours" | "plain" | "peer" | "info";
  readonly sequential: Sequential;
  readonly throughput: Throughput[];
  readonly notes: string[];
}

/**
 * One Sequential from chunks run at different moments: all times, all errors, CPU weighted by
 * runs (unknown if any chunk's is). The caller interleaves the tools' chunks, so a slow spell
 * of the servers (Dovecot's greeting drifts by a few ms from one minute to the next) falls on
 * every tool alike.
 */
export function mergeSequential<T extends Sequential>(chunks: readonly T[]): Sequential {
  const runs = chunks.reduce((sum, c) => sum + c.runs, 0);
  const cpuKnown = chunks.every((c) => c.cpuMsPerCheck !== undefined);
  return {
    timesMs: chunks.flatMap((c) => c.timesMs),
    cpuMsPerCheck: cpuKnown
      ? chunks.reduce((sum, c) => sum + (c.cpuMsPerCheck as number) * c.runs, 0) / runs
      : undefined,
    runs,
    errors: chunks.flatMap((c) => c.errors),
  };
}
