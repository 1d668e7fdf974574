/** Where a command writes, so tests can run commands in-process and read their output. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Where SIGHUP/SIGTERM/SIGINT come from (serve); the process's own by default. */
  readonly signals?: NodeJS.EventEmitter;
  /**
   * Ends the process soon even if sockets of abandoned work still hold it (serve's stop after
   * its grace period); absent in tests, which run commands in-process.
   */
  readonly exitSoon?: () => void;
}

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  env: process.env,
  exitSoon: () => {
    // Unref'd: if nothing else holds the process it ends at once, as it would have anyway.
    setTimeout(() => process.exit(), 1_000).unref();
  },
};

/** A usage mistake: the message names the option and how to fix it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An empty path would quietly mean "the default" (system CAs): refuse it instead. */
export function nonEmptyPath(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && value.trim() === "") {
    throw new UsageError(`${option} needs a file path (it was empty)`);
  }
  return value;
}
