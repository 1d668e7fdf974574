import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { runBatch } from "../child-cpu.ts";
import { runPool, type Throughput } from "../pool.ts";
import type { Sequential } from "../result.ts";
import { PLUGIN_DIR, type PluginCommand } from "../services.ts";

/** A plugin's own time from its perfdata, e.g. `|time=0.012163s;;;0.000000` -> 12.163 (ms). */
export function perfdataTimeMs(output: string): number | undefined {
  const match = /\|\s*time=([\d.]+)s/.exec(output);
  return match ? Number(match[1]) * 1000 : undefined;
}

function firstLine(output: string): string {
  return output.trim().split("\n")[0]?.slice(0, 120) ?? "";
}

export function pluginPath(command: PluginCommand): string {
  return join(PLUGIN_DIR, command.plugin);
}

/** "check_ssmtp -> /usr/lib/nagios/plugins/check_tcp", for the notes. */
export function describePlugin(command: PluginCommand): string {
  const path = pluginPath(command);
  const real = realpathSync(path);
  return real === path ? path : `${path} -> ${real}`;
}

/** The plugin's own check of the certificate (-D), which prints no time: once, exit code only. */
export function certCheck(command: PluginCommand): Promise<string> {
  const args = command.certCheckArgs;
  if (!args) return Promise.resolve("");
  return new Promise((resolve) => {
    execFile(pluginPath(command), [...args], { timeout: 15_000 }, (error, stdout) => {
      const code = error ? (error.code ?? error.signal ?? "error") : 0;
      resolve(`-D run once: exit ${code} (${firstLine(stdout)})`);
    });
  });
}

export async function pluginSequential(command: PluginCommand, runs: number): Promise<Sequential> {
  const batch = await runBatch(pluginPath(command), command.args, runs, runs * 12_000 + 5_000);
  const timesMs: number[] = [];
  const errors: string[] = [];
  for (const run of batch.runs) {
    const time = perfdataTimeMs(run.output);
    if (run.exitCode === 0 && time !== undefined) timesMs.push(time);
    else errors.push(`exit ${run.exitCode}: ${firstLine(run.output)}`);
  }
  if (batch.runs.length !== runs) errors.push(`only ${batch.runs.length} of ${runs} runs reported`);
  return {
    timesMs,
    cpuMsPerCheck: batch.childCpuMs === undefined ? undefined : batch.childCpuMs / runs,
    runs,
    errors,
  };
}

/** Checks per second with `concurrency` plugin processes in flight, as a scheduler would start them. */
export function pluginThroughput(
  command: PluginCommand,
  total: number,
  concurrency: number,
): Promise<Throughput> {
  const path = pluginPath(command);
  return runPool(
    total,
    concurrency,
    (): Promise<{ ok: true } | { ok: false; error: string }> =>
      new Promise((resolve) => {
        execFile(path, [...command.args], { timeout: 15_000 }, (error, stdout) => {
          if (!error && perfdataTimeMs(stdout) !== undefined) resolve({ ok: true });
          else
            resolve({ ok: false, error: `exit ${error?.code ?? error?.signal ?? 0}: ${firstLine(stdout)}` });
        });
      }),
  );
}
