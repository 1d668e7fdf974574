import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { forwardLine, withoutReturnLine, withReturnLine } from "./forward-file.ts";
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
export function installReturn(options: ReturnInstallOptions): string[] {
  const user = lookupUser(options.user);
  if (!existsSync(options.script)) {
    throw new Error(`the return script ${options.script} does not exist; build it first with: npm run build`);
  }
  // Fails with a clear message for a missing, open or bad key file; its key ids are reported.
  const ring = readProbeKeyFile(options.keyFile);
  const done: string[] = [];
  const dir = join(user.home, INSTALL_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  own(dir, user, 0o700);
  done.push(`created ${dir} (owner ${user.name}, mode 0700)`);

  const runtime = options.runtime ?? "node";
  const interpreter = runtime === "node" ? (options.nodePath ?? process.execPath) : options.perlPath;
  const script = join(dir, SCRIPT_FILE[runtime]);
  copyFileSync(options.script, script);
  own(script, user, 0o700);
  // A reinstall with the other runtime: its script would only confuse whoever looks.
  for (const other of RETURN_RUNTIMES.filter((r) => r !== runtime))
    rmSync(join(dir, SCRIPT_FILE[other]), { force: true });
  const key = join(dir, "probe.key");
  copyFileSync(options.keyFile, key);
  own(key, user, 0o600);
  const config = join(dir, "return.json");
  const settings = {
    returnTo: options.returnTo,
    keyFile: key,
    ...(options.sendmail ? { sendmail: options.sendmail } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    ...(options.log ? { logFile: join(dir, "return.log") } : {}),
  };
  writeFileSync(config, `${JSON.stringify(settings, null, 2)}\n`);
  own(config, user, 0o600);
  const ids = ring.map((entry) => entry.id).join(", ");
  done.push(
    `installed ${script}, ${config} (replies go to ${options.returnTo} only) and ${key} (mode 0600, keys ${ids})`,
  );

  const forward = join(user.home, ".forward");
  const line = forwardLine(interpreter, script, config);
  const before = existsSync(forward) ? readFileSync(forward, "utf8") : "";
  writeFileSync(forward, withReturnLine(before, line, options.keepCopy ? user.name : undefined));
  // Postfix ignores a .forward that others can write to: 0644, owned by the user.
  own(forward, user, 0o644);
  done.push(
    `${before ? "updated" : "wrote"} ${forward}: ${line}${options.keepCopy ? ` (with \\${user.name}: a copy stays in the mailbox)` : ""}`,
  );

  done.push(selfTest(user, interpreter, script, config));
  return done;
}

/** Removes what installReturn put in place, and nothing else. */
export function uninstallReturn(userName: string): string[] {
  const user = lookupUser(userName);
  const done: string[] = [];
  const forward = join(user.home, ".forward");
  if (existsSync(forward)) {
    const { text, removed } = withoutReturnLine(readFileSync(forward, "utf8"), user.name);
    if (!removed) done.push(`${forward} has no email_return line; left as it is`);
    else if (text === undefined) {
      rmSync(forward);
      done.push(`removed ${forward} (it held only the email_return line)`);
    } else {
      writeFileSync(forward, text);
      done.push(`removed the email_return line from ${forward}; kept its other lines`);
    }
  }
  const dir = join(user.home, INSTALL_DIR);
  for (const file of FILES) {
    const path = join(dir, file);
    if (existsSync(path)) {
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

function own(path: string, user: SystemUser, mode: number): void {
  chownSync(path, user.uid, user.gid);
  chmodSync(path, mode);
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
