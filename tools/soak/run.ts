/*
 * npm run soak -- --cycles N --interval S [--verbose]
 * Runs the monitor against the healthy demo mail host for N cycles, S seconds apart, and
 * reports every status change and alert it raised. Exit 1 when anything fired or a probe
 * did not come back.
 */
import { parseArgs } from "node:util";
import { Harness } from "../faults/harness.ts";
import { machineLine } from "../faults/machine.ts";
import { runCli } from "../faults/run-cli.ts";
import { soakReport } from "./report.ts";
import { runSoak, soakProblems } from "./soak.ts";

function positiveNumber(name: string, text: string | undefined, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && (!Number.isInteger(value) || value < 1))) {
    throw new Error(
      `--${name} must be ${integer ? "a whole number of at least 1" : "a number of seconds, 0 or more"}, got "${text}"`,
    );
  }
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cycles: { type: "string" },
      interval: { type: "string" },
      verbose: { type: "boolean", default: false },
    },
  });
  const cycles = positiveNumber("cycles", values.cycles, 200, true);
  const intervalSeconds = positiveNumber("interval", values.interval, 5, false);
  const harness = await Harness.open({
    onLog: values.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  try {
    const result = await runSoak(harness, {
      cycles,
      intervalMs: intervalSeconds * 1000,
      onCycle: (cycle, ms) => {
        const alerts = harness.recorder.changes.filter((c) => c.to !== "OK").length;
        process.stderr.write(`soak: cycle ${cycle}/${cycles} ${ms} ms, alerts so far ${alerts}\n`);
      },
    });
    process.stdout.write(soakReport(result, machineLine()));
    return soakProblems(result).length === 0 ? 0 : 1;
  } finally {
    await harness.close();
  }
}

runCli("soak", main);
