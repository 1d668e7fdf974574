import { shortSubject } from "../faults/fault.ts";
import { type SoakResult, soakProblems } from "./soak.ts";

/** The soak as markdown: a summary, every status change, latencies, and the verdict. */
export function soakReport(result: SoakResult, machine: string): string {
  const returned = result.roundTrips.filter((r) => r.outcome === "returned");
  const rtts = returned.map((r) => r.rttMs ?? 0);
  const byOutcome = countBy(result.roundTrips.map((r) => r.outcome));
  const blips = result.checks.filter((c) => c.status !== "OK");
  const problems = soakProblems(result);
  const lines = [
    "# Soak report",
    "",
    `Date: ${result.startedAt.toISOString()}; machine: ${machine}`,
    "",
    "| measure | value |",
    "|---|---|",
    `| cycles | ${result.cycles} in ${(result.elapsedMs / 1000).toFixed(0)} s (longest cycle ${(result.longestCycleMs / 1000).toFixed(1)} s) |`,
    `| status changes | ${result.changes.length} (to WARNING/CRITICAL: ${result.changes.filter((c) => c.to !== "OK").length}) |`,
    `| probes | ${result.roundTrips.length}: ${Object.entries(byOutcome)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")} |`,
    `| round-trip time | ${stats(rtts)} |`,
    `| checks | ${result.checks.length}, not OK: ${blips.length}${blips.length ? ` (${describeBlips(blips)}; single results, absorbed by flap control unless listed below)` : ""} |`,
    ...endpointLatencies(result),
    `| webhook events | ${result.eventsDelivered}/${result.events} delivered |`,
    "",
  ];
  if (result.changes.length > 0) {
    lines.push("| cycle | subject | from | to | reason |", "|---|---|---|---|---|");
    for (const c of result.changes)
      lines.push(`| ${c.cycle} | ${c.subject} | ${c.from} | ${c.to} | ${c.reason} |`);
    lines.push("");
  }
  lines.push(
    problems.length === 0
      ? "Verdict: healthy host, no alert, no lost probe."
      : `Verdict: ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join("\n")}`,
    "",
  );
  return lines.join("\n");
}

function endpointLatencies(result: SoakResult): string[] {
  const byEndpoint = new Map<string, number[]>();
  for (const c of result.checks) {
    if (c.responseMs === undefined) continue;
    byEndpoint.set(c.endpoint, [...(byEndpoint.get(c.endpoint) ?? []), c.responseMs]);
  }
  return [...byEndpoint].map(([endpoint, ms]) => `| ${shortSubject(endpoint)} response | ${stats(ms)} |`);
}

function describeBlips(blips: SoakResult["checks"]): string {
  return Object.entries(countBy(blips.map((b) => `${shortSubject(b.endpoint)} ${b.status} ${b.reason}`)))
    .map(([k, v]) => `${v}x ${k}`)
    .join(", ");
}

function stats(values: number[]): string {
  if (values.length === 0) return "-";
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  const ms = (v: number) => `${Math.round(v)} ms`;
  return `p50 ${ms(at(0.5))}, p95 ${ms(at(0.95))}, max ${ms(sorted[sorted.length - 1] as number)}`;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
