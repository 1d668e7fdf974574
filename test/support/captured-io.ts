import type { CommandIo } from "../../local/cli/io.ts";

/** A CommandIo for running CLI commands in-process: what they print is collected in `out`. */
export function capturedIo(env: NodeJS.ProcessEnv = {}): {
  out: { stdout: string; stderr: string };
  io: CommandIo;
} {
  const out = { stdout: "", stderr: "" };
  const io: CommandIo = {
    stdout: (text) => (out.stdout += `${text}\n`),
    stderr: (text) => (out.stderr += `${text}\n`),
    env,
  };
  return { out, io };
}
