import type { Status } from "../../core/model/status.ts";
import { verdictText } from "../../core/verdicts/verdict-text.ts";
import type { Board, BoardRow, RoundTripSummary } from "../dashboard/board.ts";

/** ANSI colours per status; the status word is always printed too, so colour is never the only cue. */
const COLOURS: Record<Status, string> = {
  OK: "\u001b[32m",
  WARNING: "\u001b[33m",
  CRITICAL: "\u001b[31m",
  UNKNOWN: "\u001b[35m",
};
const BOLD = "\u001b[1m";
const DIM = "\u001b[2m";
const RESET = "\u001b[0m";

/**
 * Renders the board for a terminal: one line per endpoint, posture check (posture:mx, ...) and
 * round trip, grouped by target.
 */
export function renderStatusBoard(board: Board, options: { colour: boolean }): string {
  const paint = (code: string, text: string) => (options.colour ? `${code}${text}${RESET}` : text);
  const ago = (atMs: number | undefined) =>
    atMs === undefined ? "-" : formatAgo(board.generatedAtMs - atMs);
  const subjectWidth = Math.max(
    12,
    ...board.targets.flatMap((target) => target.rows.map((row) => row.subject.length)),
  );
  const reasonWidth = Math.max(
    12,
    ...board.targets.flatMap((target) => target.rows.map((row) => row.reason.length)),
  );
  const lines: string[] = [];
  for (const target of board.targets) {
    lines.push(paint(BOLD, target.customer ? `${target.id} (${target.customer})` : target.id));
    for (const row of target.rows) {
      const since = row.sinceMs === undefined ? "not tracked yet" : `since ${ago(row.sinceMs)}`;
      const columns = [
        `  ${paint(COLOURS[row.status], row.status.padEnd(8))}`,
        row.subject.padEnd(subjectWidth),
        row.reason.padEnd(reasonWidth),
        since.padEnd(16),
        ...(row.kind === "roundtrip"
          ? roundTripColumns(row, ago)
          : row.kind === "posture"
            ? postureColumns(row, ago)
            : endpointColumns(row, ago)),
      ];
      lines.push(columns.join(" ").trimEnd());
      if (row.pending) {
        lines.push(
          paint(
            DIM,
            `           pending ${row.pending.status} ${row.pending.reason ?? ""} (${row.pending.count}x)`,
          ),
        );
      }
    }
    if (target.roundTrip) lines.push(`           ${summaryLine(board.windowHours, target.roundTrip)}`);
  }
  const rejected = Object.entries(board.rejections).map(([reason, count]) => `${reason} ${count}`);
  lines.push(`rejected returns (${board.windowHours} h): ${rejected.length ? rejected.join(", ") : "none"}`);
  return lines.join("\n");
}

function endpointColumns(row: BoardRow, ago: (atMs: number | undefined) => string): string[] {
  if (row.lastCheckAtMs === undefined) return ["no check yet"];
  return [
    `checked ${ago(row.lastCheckAtMs)}`.padEnd(20),
    seconds(row.responseMs).padStart(9),
    row.certificateDaysLeft === undefined ? "" : `  cert ${row.certificateDaysLeft} d`,
  ];
}

/** A posture check: when, of which domain, and its message when it is not OK. */
function postureColumns(row: BoardRow, ago: (atMs: number | undefined) => string): string[] {
  if (row.lastCheckAtMs === undefined) return [`no check of ${row.domain ?? "the domain"} yet`];
  return [
    `checked ${ago(row.lastCheckAtMs)}`.padEnd(20),
    row.domain ?? "",
    row.status === "OK" || row.message === undefined ? "" : row.message,
  ];
}

function roundTripColumns(row: BoardRow, ago: (atMs: number | undefined) => string): string[] {
  const last = row.lastProbe;
  if (!last) return ["no probe yet"];
  const rtt = last.rttMs === undefined ? "" : ` ${seconds(last.rttMs)}`;
  const verdicts =
    row.lastVerdicts === undefined ? [] : [`  receiver: ${verdictText(row.lastVerdicts.verdicts)}`];
  return [`last: ${last.state}${rtt} ${ago(last.sentAtMs)}`, ...verdicts];
}

function summaryLine(hours: number, rt: RoundTripSummary): string {
  return `last ${hours} h: ${rt.probes} probes, p50 ${seconds(rt.p50Ms)}, p95 ${seconds(rt.p95Ms)}, returned ${rt.returned}, late ${rt.late}, lost ${rt.lost}, bounced ${rt.bounced}, send-failed ${rt.sendFailed}`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(3)} s`;
}

/** "42 s ago", "17 min ago", "5 h ago", "3 d ago". */
export function formatAgo(elapsedMs: number): string {
  const s = Math.max(0, Math.round(elapsedMs / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
