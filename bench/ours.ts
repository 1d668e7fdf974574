import { checkMany } from "../core/checks/check-many.ts";
import { parseEndpointUrl } from "../core/checks/endpoint.ts";
import type { CheckResult } from "../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../core/checks/run-check.ts";
import { runBatch } from "./child-cpu.ts";
import type { Throughput } from "./pool.ts";
import type { Sequential } from "./result.ts";
import { median } from "./stats.ts";

export const CLI = "dist/email-scout.mjs";

function failure(result: CheckResult): string {
  return `${result.reason}${result.failedPhase ? ` in ${result.failedPhase}` : ""}`;
}

export interface OursSequential extends Sequential {
  /** Median ms of each phase over the successful runs. */
  readonly phases: Record<string, number>;
  /** Median totalMs (everything, QUIT included). */
  readonly totalMs: number | undefined;
}

/** `runs` checks one after the other in this process; CPU from process.cpuUsage(). */
export async function oursSequential(
  url: string,
  options: CheckOptions,
  runs: number,
): Promise<OursSequential> {
  const endpoint = parseEndpointUrl(url);
  const results: CheckResult[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < runs; i++) results.push(await checkEndpoint(endpoint, options));
  const cpu = process.cpuUsage(cpuBefore);
  const ok = results.filter((r) => r.status === "OK");
  const phases: Record<string, number> = {};
  for (const name of Object.keys(ok[0]?.timings ?? {})) {
    const values = ok.map((r) => (r.timings as Record<string, number | undefined>)[name] ?? 0);
    phases[name] = median(values) ?? 0;
  }
  return {
    timesMs: ok.map((r) => r.responseMs),
    cpuMsPerCheck: (cpu.user + cpu.system) / 1000 / runs,
    runs,
    errors: results.filter((r) => r.status !== "OK").map(failure),
    phases,
    totalMs: median(ok.map((r) => r.totalMs)),
  };
}

/** Checks per second with checkMany at `concurrency`, all in this one process. */
export async function oursThroughput(
  url: string,
  options: CheckOptions,
  total: number,
  concurrency: number,
): Promise<Throughput> {
  const endpoint = parseEndpointUrl(url);
  const requests = Array.from({ length: total }, () => ({ endpoint, options }));
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const results = await checkMany(requests, { concurrency });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const errors = results.filter((r) => r.status !== "OK").map(failure);
  const cpuMsPerCheck = (cpu.user + cpu.system) / 1000 / total;
  return { concurrency, checks: total, seconds, perSecond: total / seconds, errors, cpuMsPerCheck };
}

/** The CLI as a scheduler starts it, one process per check: its responseMs from --json, and its CPU. */
export async function cliSequential(url: string, caFile: string, runs: number): Promise<Sequential> {
  const batch = await runBatch(
    process.execPath,
    [CLI, "check", url, "--ca-file", caFile, "--json"],
    runs,
    runs * 35_000,
  );
  const timesMs: number[] = [];
  const errors: string[] = [];
  for (const run of batch.runs) {
    try {
      const result = JSON.parse(run.output) as CheckResult;
      if (result.status === "OK") timesMs.push(result.responseMs);
      else errors.push(failure(result));
    } catch {
      errors.push(`exit ${run.exitCode}: ${run.output.trim().slice(0, 100)}`);
    }
  }
  return {
    timesMs,
    cpuMsPerCheck: batch.childCpuMs === undefined ? undefined : batch.childCpuMs / runs,
    runs,
    errors,
  };
}
