/*
 * npm run faults [-- --only id[,id...]] [--verbose]
 * Injects every fault into the demo mail host, one at a time, restores it, and prints what
 * the monitor made of each as a markdown table. Exit 1 when any expectation failed.
 */
import { parseArgs } from "node:util";
import { ALL_FAULTS } from "./all-faults.ts";
import { Harness } from "./harness.ts";
import { machineLine } from "./machine.ts";
import { mailHost } from "./mail-host.ts";
import { faultReportTable } from "./report.ts";
import { runCli } from "./run-cli.ts";
import { type FaultReport, runFault } from "./run-fault.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: "string" }, verbose: { type: "boolean", default: false } },
  });
  const faults = selectFaults(values.only);
  const harness = await Harness.open({
    onLog: values.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  const reports: FaultReport[] = [];
  const started = new Date();
  try {
    for (const fault of faults) {
      process.stderr.write(`fault ${fault.id}: injecting\n`);
      const report = await runFault(harness, fault);
      process.stderr.write(
        `fault ${fault.id}: ${report.passed ? "pass" : `FAIL (${report.problems.join("; ")})`}\n`,
      );
      reports.push(report);
    }
  } finally {
    await harness.close();
    // Whatever happened, leave the demo host as `up` makes it.
    mailHost("up");
  }
  process.stdout.write(
    [
      `# Fault injection report`,
      "",
      `Date: ${started.toISOString()}; machine: ${machineLine()}`,
      "",
      faultReportTable(reports),
      "",
    ].join("\n"),
  );
  return reports.every((r) => r.passed) ? 0 : 1;
}

function selectFaults(only: string | undefined) {
  if (only === undefined) return ALL_FAULTS;
  const wanted = only.split(",").map((id) => id.trim());
  const unknown = wanted.filter((id) => !ALL_FAULTS.some((f) => f.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `--only: unknown fault(s) ${unknown.join(", ")}; known: ${ALL_FAULTS.map((f) => f.id).join(", ")}`,
    );
  }
  return ALL_FAULTS.filter((f) => wanted.includes(f.id));
}

runCli("faults", main);
