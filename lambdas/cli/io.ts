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
