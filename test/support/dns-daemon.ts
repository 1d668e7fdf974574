import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { DnsQueryError } from "../../core/dns/dns-errors.ts";
import { createDnsResolver, type DnsResolver } from "../../core/dns/dns-resolver.ts";

/** A DNS server from Debian's packages running in the foreground as a child process. */
export interface DnsDaemon {
  readonly port: number;
  readonly resolver: DnsResolver;
  /** What the daemon logged so far. */
  output(): string;
  /** Ends the child (by its pid, SIGTERM) and removes its directory. */
  stop(): Promise<void>;
}

export interface DnsDaemonOptions {
  /** "nsd", "unbound": named in every error. */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** The daemon's own directory (config, zones, pid file), removed by stop(). */
  readonly dir: string;
  readonly port: number;
  /** Asked until it answers: the daemon is ready then. */
  readonly readyName: string;
  /** How a SERVFAIL while waiting is taken: the daemon's answer ("ready") or its failure ("fail"). */
  readonly servfail: "ready" | "fail";
  readonly resolverTimeoutMs: number;
  readonly resolverRetries: number;
}

/**
 * Starts the daemon and waits (at most 20 s) until `readyName` answers on 127.0.0.1:port; an
 * early exit or no answer stops it and throws with what it logged.
 */
export async function startDnsDaemon(options: DnsDaemonOptions): Promise<DnsDaemon> {
  const { name, port, dir } = options;
  const child: ChildProcess = spawn(options.binary, [...options.args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const server = { host: "127.0.0.1", port };
  const probe = createDnsResolver({ server, timeoutMs: 300, retries: 0 });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited (${child.exitCode}) before answering:\n${output}`);
    }
    try {
      await probe.query(options.readyName, "NS");
      break;
    } catch (error) {
      const servfail = error instanceof DnsQueryError && error.failure === "servfail";
      if (servfail && options.servfail === "ready") break;
      if (servfail) {
        await stop();
        throw new Error(
          `${name} answered SERVFAIL for ${options.readyName} (a zone it could not load?):\n${output}`,
        );
      }
      if (!(error instanceof DnsQueryError) || Date.now() > deadline) {
        await stop();
        throw new Error(`${name} did not answer within 20 s: ${String(error)}\n${output}`);
      }
      // Not listening yet: a refused UDP port fails at once, so pace the polls.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const resolver = createDnsResolver({
    server,
    timeoutMs: options.resolverTimeoutMs,
    retries: options.resolverRetries,
  });
  return { port, resolver, output: () => output, stop };
}
