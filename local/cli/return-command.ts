import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  installReturn,
  RETURN_RUNTIMES,
  type ReturnRuntime,
  uninstallReturn,
} from "../return-install/return-install.ts";
import type { CommandIo } from "./io.ts";

export const RETURN_HELP = `Usage:
  email-scout return install --user NAME --return-to ADDR --key-file FILE [options]
  email-scout return uninstall --user NAME

Installs email_return for a mailbox on this mail server (run as root): the script, its
config and a copy of the probe key file go to ~NAME/.email-scout/ (owned by NAME, mode 0700/0600),
and ~NAME/.forward gets the pipe line (other lines in it are kept). It then runs the
installed script once as NAME to prove it works, and prints what it did.

Options for install:
  --user NAME         the probe mailbox's system user
  --return-to ADDR    where replies go (the monitor's return address); never taken from mail
  --key-file FILE     the key ring of this mailbox's target, as the monitor holds it: the
                      target's probe.keyFile, else the global probeKeyFile. Only this file
                      goes to the server; give each target its own so that this server holds
                      no key that counts for any other target. After a rotation (email-scout
                      key add / retire) install again to copy the new ring.
  --keep-copy         also keep each probe in the mailbox (adds \\NAME to .forward)
  --log               log each decision to ~NAME/.email-scout/return.log
  --sendmail PATH     sendmail to reply with (default /usr/sbin/sendmail)
  --max-bytes N       how much of a message to keep (default 1048576; the rest is discarded)
  --runtime perl|node which email_return to install (default perl: dist/email_return.pl needs
                      only Perl 5 with its core modules, part of the base system of Debian,
                      RHEL and OpenBSD; node: dist/email_return.cjs, Node.js 20+).
                      Both answer probes the same way.
  --perl PATH         Perl for the pipe to run (default: the script's own #!/usr/bin/perl)
  --node PATH         Node.js for the pipe to run (default: this one, ${process.execPath})
  --script PATH       the built email_return (default: dist/email_return.pl or .cjs beside this CLI)

uninstall removes the .forward line and the files install put there, and nothing else.
`;

const OPTIONS = {
  user: { type: "string" },
  "return-to": { type: "string" },
  "key-file": { type: "string" },
  "keep-copy": { type: "boolean" },
  log: { type: "boolean" },
  sendmail: { type: "string" },
  "max-bytes": { type: "string" },
  runtime: { type: "string" },
  perl: { type: "string" },
  node: { type: "string" },
  script: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function returnCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`email-scout return: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(RETURN_HELP);
    return 0;
  }
  const verb = positionals[0];
  try {
    if (verb === "install") {
      const missing = (["user", "return-to", "key-file"] as const).filter((name) => !values[name]);
      if (missing.length > 0) throw new Error(`install needs ${missing.map((m) => `--${m}`).join(", ")}`);
      const maxBytes = values["max-bytes"] === undefined ? undefined : Number(values["max-bytes"]);
      if (maxBytes !== undefined && !Number.isInteger(maxBytes))
        throw new Error(`--max-bytes must be a whole number of bytes`);
      const runtime = values.runtime ?? "perl";
      if (!isRuntime(runtime)) {
        throw new Error(
          `--runtime must be one of ${RETURN_RUNTIMES.join(", ")}, not ${JSON.stringify(runtime)}`,
        );
      }
      if (values.perl && runtime !== "perl") throw new Error("--perl goes with --runtime perl");
      if (values.node && runtime !== "node") throw new Error("--node goes with --runtime node");
      const done = installReturn({
        runtime,
        user: values.user as string,
        returnTo: values["return-to"] as string,
        keyFile: resolve(values["key-file"] as string),
        script: resolve(values.script ?? defaultScript(runtime)),
        ...(runtime === "node" ? { nodePath: values.node ?? process.execPath } : {}),
        ...(values.perl ? { perlPath: values.perl } : {}),
        keepCopy: values["keep-copy"] ?? false,
        log: values.log ?? false,
        ...(values.sendmail ? { sendmail: values.sendmail } : {}),
        ...(maxBytes ? { maxBytes } : {}),
      });
      for (const line of done) io.stdout(line);
      return 0;
    }
    if (verb === "uninstall") {
      if (!values.user) throw new Error("uninstall needs --user");
      for (const line of uninstallReturn(values.user)) io.stdout(line);
      return 0;
    }
    throw new Error(`expected "install" or "uninstall", not ${JSON.stringify(verb ?? "")}`);
  } catch (error) {
    io.stderr(`email-scout return ${verb ?? ""}: ${(error as Error).message}`);
    return 1;
  }
}

function isRuntime(value: string): value is ReturnRuntime {
  return (RETURN_RUNTIMES as readonly string[]).includes(value);
}

/** dist/email_return.pl or .cjs beside the bundled CLI, or in the repository when run from source. */
function defaultScript(runtime: ReturnRuntime): string {
  const file = runtime === "perl" ? "email_return.pl" : "email_return.cjs";
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, file), join(here, "../../dist", file)];
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
}

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}
