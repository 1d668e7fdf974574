import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const ROOT = join(import.meta.dirname, "../..");
/** The CLI as `npm run build` leaves it: what an operator runs. */
export const BUILT_CLI = join(ROOT, "dist/email-scout.mjs");

/** Builds dist/ (the CLI, email_return.cjs and .pl). */
export async function buildDist(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT });
}

/** Runs the built CLI as a process; a non-zero exit is a result, not an error. */
export async function runBuiltCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(BUILT_CLI, args, { timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}
