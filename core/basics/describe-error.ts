/** An error's message for a log line or a summary; anything thrown that is not an Error, as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
