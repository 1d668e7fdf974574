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
  readonly role: "ours" | "peer" | "info";
  readonly sequential: Sequential;
  readonly throughput: Throughput[];
  readonly notes: string[];
}
