import type { ToolResult } from "./result.ts";
import { fmt, median, percentile, tally } from "./stats.ts";

export type Format = "text" | "md";

/** A plain aligned table for the terminal, or a GitHub Markdown table. */
export function renderTable(headers: readonly string[], rows: readonly string[][], format: Format): string {
  const cells = format === "md" ? rows.map((r) => r.map((c) => c.replaceAll("|", "\\|"))) : rows;
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  if (format === "md") {
    // Padded the way `biome format` writes Markdown tables, so the file passes `biome check`.
    const line = (row: readonly string[]) => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
    return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export interface ServiceReport {
  readonly name: string;
  readonly port: number;
  readonly tools: readonly ToolResult[];
  /** Tools that do the same work as ours (TLS included); the others only read a banner. */
  readonly likeForLike: ReadonlySet<string>;
}

const HEADERS = [
  "tool",
  "reported median ms",
  "p95 ms",
  "CPU ms/check",
  "CPU @64",
  "checks/s @1",
  "@16",
  "@64",
  "failures",
  "notes",
];

function rowOf(tool: ToolResult): string[] {
  const seq = tool.sequential;
  const at = (c: number) => tool.throughput.find((t) => t.concurrency === c);
  const total = seq.runs + tool.throughput.reduce((sum, t) => sum + t.checks, 0);
  const errors = [...seq.errors, ...tool.throughput.flatMap((t) => t.errors)];
  const notes = [...tool.notes];
  if (errors.length > 0) notes.push(`failures: ${tally(errors)}`);
  return [
    tool.tool,
    fmt(median(seq.timesMs)),
    fmt(percentile(seq.timesMs, 95)),
    fmt(seq.cpuMsPerCheck, 2),
    fmt(at(64)?.cpuMsPerCheck, 2),
    fmt(at(1)?.perSecond, 0),
    fmt(at(16)?.perSecond, 0),
    fmt(at(64)?.perSecond, 0),
    `${errors.length}/${total}`,
    notes.join("; "),
  ];
}

/** The two targets: our median within 1.2x of the fastest peer's; ours @64 at least the exporter's. */
export function verdicts(report: ServiceReport): string[] {
  const ours = report.tools.find((t) => t.role === "ours");
  if (!ours) return [];
  const ourMedian = median(ours.sequential.timesMs);
  const peers = report.tools.filter((t) => t.role === "peer" && t.sequential.timesMs.length > 0);
  const fastest = (tools: readonly ToolResult[]) =>
    tools
      .map((t) => ({ tool: t.tool, ms: median(t.sequential.timesMs) ?? Number.POSITIVE_INFINITY }))
      .sort((a, b) => a.ms - b.ms)[0];
  const lines: string[] = [];
  const judge = (label: string, peer: { tool: string; ms: number } | undefined) => {
    if (!peer || ourMedian === undefined) return `${label}: no data`;
    const ratio = ourMedian / peer.ms;
    return `${label}: ours ${fmt(ourMedian)} ms vs ${peer.tool} ${fmt(peer.ms)} ms = ${ratio.toFixed(2)}x -> ${ratio <= 1.2 ? "MET" : "NOT MET"}`;
  };
  const all = fastest(peers);
  lines.push(judge("time <= 1.2x fastest peer", all));
  const like = fastest(peers.filter((t) => report.likeForLike.has(t.tool)));
  if (like && all && like.tool !== all.tool) {
    lines.push(judge("  same work (TLS) only", like));
    // The fastest peer only read a banner: our check doing just that, against it.
    const plain = report.tools.find((t) => t.role === "plain");
    const plainMedian = plain ? median(plain.sequential.timesMs) : undefined;
    if (plainMedian !== undefined) {
      const ratio = plainMedian / all.ms;
      lines.push(
        `  same work (no TLS) only: ours ${fmt(plainMedian)} ms vs ${all.tool} ${fmt(all.ms)} ms = ${ratio.toFixed(2)}x -> ${ratio <= 1.2 ? "MET" : "NOT MET"}`,
      );
    }
  }
  const exporter = report.tools.find((t) => t.tool.startsWith("blackbox"));
  const our64 = ours.throughput.find((t) => t.concurrency === 64)?.perSecond;
  const their64 = exporter?.throughput.find((t) => t.concurrency === 64)?.perSecond;
  if (our64 !== undefined && their64 !== undefined) {
    const met = our64 >= their64 ? "MET" : "NOT MET";
    const close = Math.abs(our64 / their64 - 1) < 0.05 ? " (within 5%: a tie at this sample size)" : "";
    lines.push(`checks/s @64 >= exporter: ours ${fmt(our64, 0)} vs ${fmt(their64, 0)} -> ${met}${close}`);
  }
  return lines;
}

export function renderService(report: ServiceReport, format: Format): string {
  const title = `${report.name} (127.0.0.1:${report.port})`;
  const table = renderTable(HEADERS, report.tools.map(rowOf), format);
  const verdict = verdicts(report);
  if (format === "md") {
    return [`### ${title}`, "", table, "", ...verdict.map((v) => `- ${v.trim()}`)].join("\n");
  }
  return [`== ${title}`, table, ...verdict.map((v) => `=> ${v}`)].join("\n");
}

/** Our per-phase medians (ms), to show where the time goes. */
export function renderPhases(
  rows: readonly { service: string; phases: Record<string, number>; responseMs?: number; totalMs?: number }[],
  format: Format,
): string {
  const names = ["connect", "tls", "greeting", "capabilities", "starttls", "capabilitiesAfterTls", "quit"];
  const headers = ["service", ...names, "responseMs", "totalMs"];
  const body = rows.map((r) => [
    r.service,
    ...names.map((n) => fmt(r.phases[n])),
    fmt(r.responseMs),
    fmt(r.totalMs),
  ]);
  return renderTable(headers, body, format);
}
