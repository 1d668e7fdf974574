import { parseArgs } from "node:util";
import {
  formatProbeKeyRing,
  newKeyId,
  newProbeKey,
  type ProbeKey,
  type ProbeKeyRing,
} from "../../core/wire/probe-key.ts";
import { ProbeKeyFileError, readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import type { CommandIo } from "./io.ts";
import { addSigningKey, checkKeyId, KeyRingEditError, retireKey } from "./key-ring-edits.ts";
import { SecretFileWriteError, writeSecretFile } from "./write-secret-file.ts";

export const KEY_HELP = `Usage: email-scout key new FILE [--id ID] [--force]
       email-scout key add FILE [--id ID]
       email-scout key retire FILE --id ID
       email-scout key list FILE

A probe key file is a key ring: lines "scout-key-v2:<key id>:<base64url of 32 random bytes>",
comments allowed. Its FIRST key signs new probes (and email_return's replies to them); every
key in it is still accepted, which is how a key is rotated without losing probes in flight.
Give every probe target its own file (targets[].probe.keyFile): that target's email_return
then holds no key that counts for any other target. Files are written with mode 0600; a
symlink at FILE is replaced, never followed.

  new     a ring of one fresh key. An existing FILE is kept unless --force is given:
          replacing it invalidates every installed copy (rotate with add/retire instead).
  add     put a fresh key first; the old ones stay accepted. Then copy FILE to the target's
          email_return (email-scout return install), and retire the old key once its
          probes are past roundTrip.maxAgeSeconds.
  retire  remove key ID; refuses to remove the last key.
  list    print the key ids, signing key first (never key material).

--id ID   the key id, 1-32 characters of A-Z a-z 0-9 - _ (default: today's date and 4
          random characters, e.g. 20261202-x7Qa).
`;

const COMMANDS = ["new", "add", "retire", "list"] as const;
type Verb = (typeof COMMANDS)[number];

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
  if (!COMMANDS.includes(verb as Verb) || !file || extra.length > 0) {
    io.stderr(`email-scout key: expected "key new|add|retire|list FILE"\n\n${KEY_HELP}`);
    return 2;
  }
  if (verb === "retire" && values.id === undefined) {
    io.stderr("email-scout key: key retire needs --id ID (see: email-scout key list FILE)");
    return 2;
  }
  try {
    return run(verb as Verb, file, values, io);
  } catch (error) {
    if (error instanceof KeyRingEditError || error instanceof ProbeKeyFileError) {
      io.stderr(`email-scout key: ${error.message}`);
      return 1;
    }
    if (!(error instanceof SecretFileWriteError)) throw error;
    const advice =
      error.reason === "exists"
        ? "; keeping it (rotate with key add, or replace it with --force, then reinstall email_return everywhere)"
        : "";
    io.stderr(`email-scout key: ${error.message}${advice}`);
    return 1;
  }
}

function run(verb: Verb, file: string, values: { id?: string; force?: boolean }, io: CommandIo): number {
  const fresh = (): ProbeKey => {
    const id = values.id ?? newKeyId(Date.now());
    checkKeyId(id);
    return { id, key: newProbeKey() };
  };
  if (verb === "list") {
    const [signing, ...others] = readProbeKeyFile(file);
    io.stdout([`${signing.id}\tsigns`, ...others.map((key) => `${key.id}\taccepted`)].join("\n"));
    return 0;
  }
  if (verb === "new") {
    const key = fresh();
    const mode = write(file, [key], values.force === true);
    io.stdout(`wrote a new probe key ${key.id} to ${file} (mode ${mode})`);
    return 0;
  }
  const ring = readProbeKeyFile(file);
  if (verb === "add") {
    const key = fresh();
    const mode = write(file, addSigningKey(ring, key), true);
    io.stdout(
      `added probe key ${key.id} to ${file} (mode ${mode}); it signs new probes, ${ring.map((k) => k.id).join(", ")} still accepted`,
    );
    return 0;
  }
  const id = values.id as string;
  const retired = retireKey(ring, id);
  const mode = write(file, retired.ring, true);
  io.stdout(`retired probe key ${id} from ${file} (mode ${mode})`);
  if (retired.wasSigning) {
    io.stderr(
      `email-scout key: warning: ${id} was the signing key; ${retired.ring[0].id} signs new probes now`,
    );
  }
  return 0;
}

function write(file: string, ring: ProbeKeyRing, replace: boolean): string {
  return writeSecretFile(file, formatProbeKeyRing(ring), { replace }).toString(8).padStart(4, "0");
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      force: { type: "boolean" },
      id: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}
