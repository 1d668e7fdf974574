import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { formatProbeKeyFile, newProbeKey } from "../../core/wire/probe-key.ts";
import type { CommandIo } from "./io.ts";

export const KEY_HELP = `Usage: email-scout key new FILE [--force]

Writes a fresh probe key (32 random bytes) to FILE with mode 0600. The monitor signs every
probe with it, and email_return on each monitored mail server checks probes with a copy of
it (email-scout return install copies it for you). Format: comment lines, then one line
"scout-key-v1:<base64url of 32 bytes>". An existing FILE is kept unless --force is given:
replacing the key invalidates every installed copy.
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
  if (existsSync(file) && !values.force) {
    io.stderr(
      `email-scout key: ${file} exists; keeping it (replace it with --force, then reinstall email_return everywhere)`,
    );
    return 1;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, formatProbeKeyFile(newProbeKey()), { mode: 0o600, flag: values.force ? "w" : "wx" });
  io.stdout(`wrote a new probe key to ${file} (mode 0600)`);
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
