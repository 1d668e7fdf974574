import { EXIT_CODES } from "../../core/checks/reasons.ts";
import type { Board, BoardRow } from "../dashboard/board.ts";

/**
 * `status --nagios TARGET/SUBJECT`: one subject of the board as Nagios plugin output, read from
 * the store serve keeps: no network check, so a monitoring host with thousands of services
 * can poll every one of them for the cost of a SQLite read. The status is the flap-controlled
 * one the board shows. A result older than `staleAfterMs` is UNKNOWN: the monitor may be down,
 * and an old OK must not stand for a current one.
 */
export function formatSubjectNagios(
  board: Board,
  wanted: string,
  staleAfterMs: number,
): { line: string; code: number } {
  const slash = wanted.indexOf("/");
  const targetId = slash < 0 ? wanted : wanted.slice(0, slash);
  const subject = slash < 0 ? "" : wanted.slice(slash + 1);
  const target = board.targets.find((t) => t.id === targetId);
  if (target === undefined) {
    return unknown(
      `no target "${targetId}"; targets: ${board.targets.map((t) => t.id).join(", ") || "none"}`,
    );
  }
  const row = target.rows.find((r) => r.subject === subject);
  if (row === undefined) {
    return unknown(
      `target ${targetId} has no subject "${subject}"; give TARGET/SUBJECT, one of: ${target.rows
        .map((r) => `${targetId}/${r.subject}`)
        .join(", ")}`,
    );
  }
  const service =
    row.kind === "roundtrip"
      ? "ROUNDTRIP"
      : row.kind === "posture"
        ? "POSTURE"
        : (row.protocol ?? "CHECK").toUpperCase();
  const lastAtMs = row.kind === "roundtrip" ? row.lastProbe?.sentAtMs : row.lastCheckAtMs;
  if (lastAtMs === undefined) {
    return unknown(`${wanted}: no result yet; is email-scout serve running?`, service);
  }
  const ageMs = board.generatedAtMs - lastAtMs;
  if (ageMs > staleAfterMs) {
    return unknown(
      `${wanted}: the last result is ${Math.round(ageMs / 1000)} s old (from ${new Date(lastAtMs).toISOString()}); is email-scout serve running?`,
      service,
    );
  }
  const text = `${wanted}: ${row.reason}${since(row)}`;
  return { line: `${service} ${row.status} - ${text} | ${perfdata(row)}`, code: EXIT_CODES[row.status] };
}

function since(row: BoardRow): string {
  return row.sinceMs === undefined ? "" : ` since ${new Date(row.sinceMs).toISOString()}`;
}

function perfdata(row: BoardRow): string {
  const items: string[] = [];
  if (row.responseMs !== undefined) items.push(`time=${(row.responseMs / 1000).toFixed(3)}s;;;0`);
  if (row.certificateDaysLeft !== undefined) items.push(`cert_days=${row.certificateDaysLeft}`);
  const rtt = row.lastProbe?.rttMs;
  if (row.kind === "roundtrip")
    items.push(`rtt=${rtt === undefined ? "U" : `${(rtt / 1000).toFixed(3)}s`};;;0`);
  return items.join(" ");
}

function unknown(message: string, service = "EMAIL-SCOUT"): { line: string; code: number } {
  return { line: `${service} UNKNOWN - ${message.replace(/\|/g, "/")}`, code: 3 };
}
