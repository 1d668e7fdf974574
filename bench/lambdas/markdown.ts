import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";
import { renderTable } from "../table.ts";

/** A Markdown table as lines, padded so it reads as well in a terminal as rendered. */
export function table(header: readonly string[], rows: readonly string[][]): string[] {
  return renderTable(header, rows, "md").split("\n");
}

export function verdict(met: boolean): string {
  return met ? "met" : "NOT met";
}

/** The CPU model as /proc/cpuinfo names it ("model name"), or "?" where there is none. */
function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "?";
  } catch {
    return "?";
  }
}

/** Date, CPUs, CPU model, memory, kernel and Node: what the numbers were measured on. */
export function machineLines(): string[] {
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    // The machine may be shared: a load above its CPU count at the start inflates every time here.
    `load average at the end (1/5/15 min): ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" / ")}`,
    `system: kernel ${release()}, Node ${process.version} (Lambda runs the bundles on Node 24, arm64)`,
  ];
}
