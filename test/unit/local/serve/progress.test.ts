import { describe, expect, it } from "vitest";
import type { LogFields, Logger } from "../../../../core/ports/logger.ts";
import { PROGRESS_MIN_STEPS, progressReporter } from "../../../../local/serve/progress.ts";

function recording(): { log: Logger; lines: { message: string; fields?: LogFields }[] } {
  const lines: { message: string; fields?: LogFields }[] = [];
  const push = (message: string, fields?: LogFields) =>
    lines.push({ message, ...(fields ? { fields } : {}) });
  return { log: { info: push, warn: push, error: push }, lines };
}

describe("progressReporter", () => {
  it("logs at each quarter of a long run, once each", () => {
    const { log, lines } = recording();
    const step = progressReporter(log, "checks", 200);
    for (let i = 0; i < 200; i++) step();
    expect(lines.map((line) => [line.message, line.fields?.done, line.fields?.percent])).toEqual([
      ["checks progress", 50, 25],
      ["checks progress", 100, 50],
      ["checks progress", 150, 75],
    ]);
  });

  it("stays quiet on a short run", () => {
    const { log, lines } = recording();
    const step = progressReporter(log, "checks", PROGRESS_MIN_STEPS - 1);
    for (let i = 0; i < PROGRESS_MIN_STEPS - 1; i++) step();
    expect(lines).toEqual([]);
  });
});
