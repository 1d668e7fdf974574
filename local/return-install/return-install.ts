import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { forwardLine, withoutReturnLine, withReturnLine } from "./forward-file.ts";
import { ensureOwnedDirectory, presentAt, readOwnFile, writeOwnedFile } from "./owned-files.ts";
import { lookupUser, type SystemUser } from "./system-user.ts";

export interface ReturnInstallOptions {
  readonly user: string;
  readonly returnTo: string;
  readonly keyFile: string;
  /** Which email_return: "perl" (dist/email_return.pl, needs nothing beyond the base system) or "node". */
  readonly runtime?: ReturnRuntime;
  /** The built script of that runtime: dist/email_return.cjs or dist/email_return.pl. */
  readonly script: string;
  /** Node.js for the pipe to run (runtime node). */
  readonly nodePath?: string;
  /** Perl for the pipe to run (runtime perl); without it the script's #!/usr/bin/perl runs it. */
  readonly perlPath?: string;
  readonly keepCopy?: boolean;
  readonly sendmail?: string;
  readonly log?: boolean;
  readonly maxBytes?: number;
}

export type ReturnRuntime = "node" | "perl";
export const RETURN_RUNTIMES: readonly ReturnRuntime[] = ["perl", "node"];
export const INSTALL_DIR = ".email-scout";
const SCRIPT_FILE: Record<ReturnRuntime, string> = { node: "email_return.cjs", perl: "email_return.pl" };
const FILES = ["email_return.cjs", "email_return.pl", "return.json", "probe.key", "return.log"];

/**
 * Installs email_return for a mailbox: script, config and key ring under ~/.email-scout (owned
 * by the user, 0700/0600), the pipe line in ~/.forward (keeping its other lines), then runs
 * the installed script as that user once, on a message that is not a probe, to prove that
 * the user can run the script (Perl or Node), read the config and the key. Returns what it did.
 */
export function installReturn(
  options: ReturnInstallOptions,
  lookup: (name: string) => SystemUser = lookupUser,
): string[] {
  const user = lookup(options.user);
  if (!existsSync(options.script)) {
    throw new Error(`the return script ${options.script} does not exist; build it first with: npm run build`);
  }
  // Fails with a clear message for a missing, open or bad key file; its key ids are reported.
  const ring = readProbeKeyFile(options.keyFile);
  const done: string[] = [];
  const dir = join(user.home, INSTALL_DIR);
  ensureOwnedDirectory(dir, user, 0o700);
  done.push(`created ${dir} (owner ${user.name}, mode 0700)`);

  const runtime = options.runtime ?? "node";
  const interpreter = runtime === "node" ? (options.nodePath ?? process.execPath) : options.perlPath;
  const script = join(dir, SCRIPT_FILE[runtime]);
  writeOwnedFile(script, readFileSync(options.script), user, 0o700);
  // A reinstall with the other runtime: its script would only confuse whoever looks.
  for (const other of RETURN_RUNTIMES.filter((r) => r !== runtime))
    rmSync(join(dir, SCRIPT_FILE[other]), { force: true });
  const key = join(dir, "probe.key");
  writeOwnedFile(key, readFileSync(options.keyFile), user, 0o600);
  const config = join(dir, "return.json");
  const settings = {
    returnTo: options.returnTo,
    keyFile: key,
    ...(options.sendmail ? { sendmail: options.sendmail } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    ...(options.log ? { logFile: join(dir, "return.log") } : {}),
  };
  writeOwnedFile(config, `${JSON.stringify(settings, null, 2)}\n`, user, 0o600);
  const ids = ring.map((entry) => entry.id).join(", ");
  done.push(
    `installed ${script}, ${config} (replies go to ${options.returnTo} only) and ${key} (mode 0600, keys ${ids})`,
  );

  const forward = join(user.home, ".forward");
  const line = forwardLine(interpreter, script, config);
  const before = readOwnFile(forward) ?? "";
  // Postfix ignores a .forward that others can write to: 0644, owned by the user.
  writeOwnedFile(
    forward,
    withReturnLine(before, line, options.keepCopy ? user.name : undefined),
    user,
    0o644,
  );
  done.push(
    `${before ? "updated" : "wrote"} ${forward}: ${line}${options.keepCopy ? ` (with \\${user.name}: a copy stays in the mailbox)` : ""}`,
  );

  done.push(selfTest(user, interpreter, script, config));
  return done;
}

/** Removes what installReturn put in place, and nothing else. */
export function uninstallReturn(
  userName: string,
  lookup: (name: string) => SystemUser = lookupUser,
): string[] {
  const user = lookup(userName);
  const done: string[] = [];
  const forward = join(user.home, ".forward");
  const current = readOwnFile(forward);
  if (current !== undefined) {
    const { text, removed } = withoutReturnLine(current, user.name);
    if (!removed) done.push(`${forward} has no email_return line; left as it is`);
    else if (text === undefined) {
      rmSync(forward);
      done.push(`removed ${forward} (it held only the email_return line)`);
    } else {
      writeOwnedFile(forward, text, user, 0o644);
      done.push(`removed the email_return line from ${forward}; kept its other lines`);
    }
  }
  const dir = join(user.home, INSTALL_DIR);
  if (presentAt(dir) && lstatSync(dir).isSymbolicLink()) {
    // Removing our file names through it would delete them wherever it points, as root.
    done.push(`left ${dir} alone: it is a symbolic link, not the directory Email Scout made`);
    return done;
  }
  for (const file of FILES) {
    const path = join(dir, file);
    if (presentAt(path)) {
      rmSync(path);
      done.push(`removed ${path}`);
    }
  }
  if (existsSync(dir)) {
    try {
      rmdirSync(dir);
      done.push(`removed ${dir}`);
    } catch {
      done.push(`kept ${dir}: it holds files Email Scout did not put there`);
    }
  }
  if (done.length === 0) done.push(`nothing to remove for ${user.name}`);
  return done;
}

/** Runs the installed script as the user, the way the MTA will, on a message that is not a probe. */
function selfTest(user: SystemUser, interpreter: string | undefined, script: string, config: string): string {
  const message =
    "From: selftest@localhost\nTo: selftest@localhost\nSubject: email_return self-test\n\nnot a probe\n";
  const [command, args] =
    interpreter === undefined ? [script, ["--config", config]] : [interpreter, [script, "--config", config]];
  const run = spawnSync(command, args, {
    input: message,
    uid: user.uid,
    gid: user.gid,
    cwd: "/",
    env: {
      PATH: "/usr/bin:/bin",
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
      SENDER: "selftest@localhost",
    },
    timeout: 30_000,
    encoding: "utf8",
  });
  if (run.error) throw new Error(`self-test: cannot run ${command} as ${user.name}: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(
      `self-test: email_return exited ${run.status} when run as ${user.name} (75 means it could not read its config or key; check ${config} and the key's owner and mode)`,
    );
  }
  if (run.stdout || run.stderr)
    throw new Error("self-test: email_return wrote output; it must stay silent (it would end up in bounces)");
  return `self-test passed: ${user.name} can run email_return (it ignored a non-probe message and exited 0)`;
}
