import type { FaultReport } from "./run-fault.ts";

/** The markdown table: fault, expected, observed, time to detect, time to recover, result. */
export function faultReportTable(reports: readonly FaultReport[]): string {
  const rows = reports.map((r) =>
    [
      r.title,
      r.expected,
      r.observed + (r.problems.length ? ` **Problems:** ${r.problems.join("; ")}` : ""),
      timing(r.detectMs, r.detectCycles),
      timing(r.recoverMs, r.recoverCycles),
      r.passed ? "pass" : "FAIL",
    ]
      .map(cell)
      .join(" | "),
  );
  const passed = reports.filter((r) => r.passed).length;
  return [
    "| fault | expected | observed | time to detect | time to recover | result |",
    "|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    `${passed} passed, ${reports.length - passed} failed`,
  ].join("\n");
}

function timing(ms: number | undefined, cycles: number | undefined): string {
  if (ms === undefined) return "-";
  return `${(ms / 1000).toFixed(1)} s (cycle ${cycles})`;
}

/** Table cells cannot hold pipes or newlines. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}
