import { appendFileSync } from "node:fs";

export type LogDecision = "replied" | "ignored" | "tempfail";

export interface LogEntry {
  at: Date;
  decision: LogDecision;
  reason: string;
  probeId?: string;
  messageId?: string;
  detail?: string;
}

/**
 * One line per delivery, e.g.
 *   2024-05-01T10:00:00.000Z ignored reason=token-expired probe=AbC... message-id=<x@y> detail="..."
 * Values come from the message, so control characters are replaced and length is capped.
 */
export function formatLogLine(entry: LogEntry): string {
  const fields = [
    entry.at.toISOString(),
    entry.decision,
    `reason=${word(entry.reason)}`,
    `probe=${word(entry.probeId)}`,
    `message-id=${word(entry.messageId)}`,
  ];
  if (entry.detail !== undefined) fields.push(`detail=${JSON.stringify(clean(entry.detail, 300))}`);
  return `${fields.join(" ")}\n`;
}

/**
 * An error's message for the detail field; anything thrown that is not an Error, as text.
 * The same one line as core/basics/describe-error.ts, written here on purpose: email_return
 * imports core/wire/ alone (the wire format it shares with the correlator), and the wire code
 * formats no errors, so core/wire/ is no honest home for it and sharing it is not worth a rule
 * exception.
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Appends one line to the log file. Never throws: logging must not change the exit code. */
export function appendLog(path: string | undefined, entry: LogEntry): void {
  if (path === undefined) return;
  try {
    appendFileSync(path, formatLogLine(entry), { mode: 0o600 });
  } catch {
    // Nowhere to report it: stdout and stderr would end up in a bounce.
  }
}

function word(value: string | undefined): string {
  return value === undefined || value === "" ? "-" : clean(value, 200).replace(/\s/g, "_");
}

function clean(value: string, max: number): string {
  return value.replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}
