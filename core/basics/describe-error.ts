/** An error's message for a log line or a summary; anything thrown that is not an Error, as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Anything thrown, as an Error (a thrown string or object becomes the message). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
