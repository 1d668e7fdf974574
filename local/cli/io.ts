/** Where a command writes, so tests can run commands in-process and read their output. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  env: process.env,
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
