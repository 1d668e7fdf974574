import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** The repository root (tools/faults is two levels down). */
export const ROOT = join(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "scripts/demo-mailhost.sh");
const COMMAND_TIMEOUT_MS = 120_000;

/** The demo host's facts the harness needs (scripts/demo-mailhost.sh). */
export const DEMO = {
  dir: "/var/lib/email-scout-demo",
  caFile: "/var/lib/email-scout-demo/ca.pem",
  caKeyFile: "/var/lib/email-scout-demo/ca.key",
  host: "127.0.0.1",
  hostname: "mail.scout.test",
  domain: "scout.test",
  /** The login the IMAP check uses. */
  user: "scout",
  passwordFile: "/var/lib/email-scout-demo/scout.password",
} as const;

/** Runs a program; on failure the error names the command and carries its stderr. */
export function run(file: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(file, args, {
      encoding: "utf8",
      timeout: COMMAND_TIMEOUT_MS,
      stdio: ["pipe", "pipe", "pipe"],
      ...(input === undefined ? {} : { input }),
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`${file} ${args.join(" ")} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

/** scripts/demo-mailhost.sh <command> [args]: up, status, stop-dovecot, cert-install... */
export function mailHost(command: string, ...args: string[]): string {
  return run("bash", [SCRIPT, command, ...args]);
}

/** True when Postfix and Dovecot both run and listen on every port. */
export function mailHostIsUp(): boolean {
  try {
    mailHost("status");
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks Postfix to retry its deferred mail now, so a fixed fault is seen at once rather than
 * after the queue manager's backoff.
 */
export function flushPostfixQueue(): void {
  run("postqueue", ["-f"]);
}

/** Sets (value) or removes (undefined) one main.cf parameter, then reloads Postfix. */
export function setPostfixParameter(name: string, value: string | undefined): void {
  if (value === undefined) run("postconf", ["-X", name]);
  else run("postconf", ["-e", `${name}=${value}`]);
  run("postfix", ["reload"]);
}

/** Recipients of the messages in Postfix's queue (deferred or active), from `postqueue -j`. */
export function queuedRecipients(): { recipient: string; reason: string }[] {
  const text = run("postqueue", ["-j"]);
  const found: { recipient: string; reason: string }[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as {
      recipients?: { address: string; delay_reason?: string }[];
    };
    for (const r of entry.recipients ?? [])
      found.push({ recipient: r.address, reason: r.delay_reason ?? "" });
  }
  return found;
}
