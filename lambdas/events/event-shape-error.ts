import type { z } from "zod";
import { describeIssues } from "../../core/config/parse-config.ts";

/** A Lambda was invoked with an event it does not handle; the message names each bad field. */
export class EventShapeError extends Error {
  override readonly name = "EventShapeError";
  constructor(
    readonly expected: string,
    readonly problems: string[],
  ) {
    super(`not ${expected}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Parses `event` with `schema`, or throws EventShapeError naming what was expected. */
export function parseEvent<T>(schema: z.ZodType<T>, event: unknown, expected: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) throw new EventShapeError(expected, describeIssues(parsed.error.issues));
  return parsed.data;
}
