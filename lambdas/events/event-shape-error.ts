import { checkShape, type Shape } from "./event-shape.ts";

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

/** Reads `event` with `shape`, or throws EventShapeError naming what was expected. */
export function parseEvent<T>(shape: Shape<T>, event: unknown, expected: string): T {
  const { value, problems } = checkShape(shape, event);
  if (problems.length > 0) throw new EventShapeError(expected, problems);
  return value;
}
