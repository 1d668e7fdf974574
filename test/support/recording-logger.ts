import type { LogFields, Logger } from "../../core/ports/logger.ts";

/** A logger that keeps what it was told, for the handler tests to inspect. */
export class RecordingLogger implements Logger {
  readonly entries: { level: string; message: string; fields: LogFields }[] = [];
  info = (message: string, fields: LogFields = {}) => this.entries.push({ level: "info", message, fields });
  warn = (message: string, fields: LogFields = {}) => this.entries.push({ level: "warn", message, fields });
  error = (message: string, fields: LogFields = {}) => this.entries.push({ level: "error", message, fields });

  /** Everything logged, as one text: to check that no secret ever appears. */
  text(): string {
    return JSON.stringify(this.entries);
  }
}
