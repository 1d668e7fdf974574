import type { LogFields, Logger } from "../../core/ports/logger.ts";

/**
 * One line per event, `time LEVEL message key=value ...` (logfmt-style), easy to read at
 * 3 a.m. and easy to grep. Values with spaces or quotes are quoted.
 */
export function consoleLogger(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    const parts = [new Date().toISOString(), level, message];
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      parts.push(`${key}=${formatValue(value)}`);
    }
    write(parts.join(" "));
  };
  return {
    info: (message, fields) => emit("INFO ", message, fields),
    warn: (message, fields) => emit("WARN ", message, fields),
    error: (message, fields) => emit("ERROR", message, fields),
  };
}

function formatValue(value: string | number | boolean | null): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
