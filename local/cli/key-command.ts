import { parseArgs } from "node:util";
import { formatProbeKeyFile, newProbeKey } from "../../core/wire/probe-key.ts";
import type { CommandIo } from "./io.ts";
import { SecretFileWriteError, writeSecretFile } from "./write-secret-file.ts";

export const KEY_HELP = `Usage: email-scout key new FILE [--force]

Writes a fresh probe key (32 random bytes) to FILE with mode 0600. The monitor signs every
probe with it, and email_return on each monitored mail server checks probes with a copy of
it (email-scout return install copies it for you). Format: comment lines, then one line
"scout-key-v1:<base64url of 32 bytes>". An existing FILE is kept unless --force is given:
replacing the key invalidates every installed copy. --force replaces FILE (or a symlink at FILE,
never its target) with a new 0600 file; a directory is refused.
`;

export async function keyCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`email-scout key: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(KEY_HELP);
    return 0;
  }
  const [verb, file, ...extra] = positionals;
  if (verb !== "new" || !file || extra.length > 0) {
    io.stderr(`email-scout key: expected "key new FILE"\n\n${KEY_HELP}`);
    return 2;
  }
  let mode: number;
  try {
    mode = writeSecretFile(file, formatProbeKeyFile(newProbeKey()), { replace: values.force === true });
  } catch (error) {
    if (!(error instanceof SecretFileWriteError)) throw error;
    const advice =
      error.reason === "exists"
        ? "; keeping it (replace it with --force, then reinstall email_return everywhere)"
        : "";
    io.stderr(`email-scout key: ${error.message}${advice}`);
    return 1;
  }
  io.stdout(`wrote a new probe key to ${file} (mode ${mode.toString(8).padStart(4, "0")})`);
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
}
