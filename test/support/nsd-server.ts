import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DnsResolver } from "../../core/dns/dns-resolver.ts";
import { startDnsDaemon } from "./dns-daemon.ts";

/**
 * Debian's NSD as a child process on 127.0.0.1 and a free high port, serving zone files the
 * test writes: a real authoritative server for the posture checks. A missing nsd is an error
 * that says how to install it (scripts/ensure-dns-server.sh), never a skip.
 */
export const NSD_BINARY = process.env.EMAIL_SCOUT_NSD ?? "/usr/sbin/nsd";

export interface NsdZone {
  readonly origin: string;
  /** The records after the SOA and NS that every zone gets. */
  readonly records: string;
  /** The whole zone file as written, in place of the SOA, NS and records (a signed zone). */
  readonly text?: string;
}

export interface NsdServer {
  readonly port: number;
  readonly resolver: DnsResolver;
  stop(): Promise<void>;
}

/** A port free for both TCP and UDP on 127.0.0.1 (taken from TCP's port 0, checked on UDP). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (free) await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (free) return port;
  }
  throw new Error("nsd-server: no port free for both TCP and UDP");
}

/** The zone file NSD serves: `text` when given, else SOA, NS and the records. */
export function zoneFile(zone: NsdZone): string {
  if (zone.text !== undefined) return zone.text;
  return `$ORIGIN ${zone.origin}.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n${zone.records}\n`;
}

export async function startNsd(zones: readonly NsdZone[]): Promise<NsdServer> {
  if (!existsSync(NSD_BINARY)) {
    throw new Error(
      `nsd is missing at ${NSD_BINARY}: run scripts/ensure-dns-server.sh (apt-get install nsd)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "email-scout-nsd-"));
  const port = await freePort();
  const config = [
    "server:",
    `  ip-address: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    '  database: ""',
    `  zonelistfile: "${dir}/zone.list"`,
    `  xfrdfile: "${dir}/xfrd.state"`,
    `  xfrdir: "${dir}"`,
    `  pidfile: "${dir}/nsd.pid"`,
    "  server-count: 1",
    "  verbosity: 1",
    "remote-control:",
    "  control-enable: no",
    ...zones.flatMap((zone) => ["zone:", `  name: "${zone.origin}"`, `  zonefile: "${zone.origin}.zone"`]),
  ].join("\n");
  await writeFile(join(dir, "nsd.conf"), `${config}\n`);
  for (const zone of zones) await writeFile(join(dir, `${zone.origin}.zone`), zoneFile(zone));
  return startDnsDaemon({
    name: "nsd",
    binary: NSD_BINARY,
    args: ["-d", "-c", join(dir, "nsd.conf")],
    dir,
    port,
    // Ready when the first zone answers; a zone nsd could not load answers SERVFAIL.
    readyName: zones[0]?.origin ?? ".",
    servfail: "fail",
    resolverTimeoutMs: 2000,
    resolverRetries: 2,
  });
}
