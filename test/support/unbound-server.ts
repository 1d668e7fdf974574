import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DnsResolver } from "../../core/dns/dns-resolver.ts";
import { startDnsDaemon } from "./dns-daemon.ts";
import { freePort } from "./nsd-server.ts";

/**
 * Debian's unbound as a validating resolver, a child process in the foreground on 127.0.0.1
 * and a free port, configured in a directory of its own: each zone a stub pointing at an
 * authoritative server on loopback, with the trust anchors given; nothing else is asked of
 * the internet. Never a system service.
 */
export const UNBOUND_BINARY = process.env.EMAIL_SCOUT_UNBOUND ?? "/usr/sbin/unbound";

export interface UnboundStub {
  readonly zone: string;
  /** The authoritative server's port on 127.0.0.1. */
  readonly port: number;
}

export interface UnboundServer {
  readonly port: number;
  readonly resolver: DnsResolver;
  /** What unbound logged so far (validation failures at val-log-level 2). */
  output(): string;
  stop(): Promise<void>;
}

export async function startUnbound(options: {
  stubs: readonly UnboundStub[];
  trustAnchorFiles: readonly string[];
}): Promise<UnboundServer> {
  if (!existsSync(UNBOUND_BINARY)) {
    throw new Error(
      `unbound is missing at ${UNBOUND_BINARY}: run scripts/ensure-dns-server.sh (apt-get install unbound)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "email-scout-unbound-"));
  const port = await freePort();
  const config = [
    "server:",
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    "  do-ip6: no",
    "  access-control: 127.0.0.0/8 allow",
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${dir}/unbound.pid"`,
    "  use-syslog: no",
    '  logfile: ""',
    "  verbosity: 1",
    "  val-log-level: 2",
    "  num-threads: 1",
    "  so-reuseport: no",
    // The authoritative servers are on loopback, which unbound otherwise refuses to ask.
    "  do-not-query-localhost: no",
    // A bogus answer is SERVFAIL, never passed on without the AD bit.
    "  val-permissive-mode: no",
    '  module-config: "validator iterator"',
    "  harden-dnssec-stripped: yes",
    // .test is one of unbound's default local zones (RFC 6761): let the stubs answer for it.
    '  local-zone: "test." nodefault',
    ...options.trustAnchorFiles.map((file) => `  trust-anchor-file: "${file}"`),
    "remote-control:",
    "  control-enable: no",
    ...options.stubs.flatMap((stub) => [
      "stub-zone:",
      `  name: "${stub.zone}"`,
      `  stub-addr: 127.0.0.1@${stub.port}`,
    ]),
  ].join("\n");
  await writeFile(join(dir, "unbound.conf"), `${config}\n`);
  return startDnsDaemon({
    name: "unbound",
    binary: UNBOUND_BINARY,
    args: ["-d", "-c", join(dir, "unbound.conf")],
    dir,
    port,
    readyName: options.stubs[0]?.zone ?? ".",
    // A SERVFAIL here is a real answer (the zone failed validation): the test judges it.
    servfail: "ready",
    resolverTimeoutMs: 3000,
    resolverRetries: 1,
  });
}
