import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DnsQueryError } from "../../core/dns/dns-errors.ts";
import { createDnsResolver, type DnsResolver } from "../../core/dns/dns-resolver.ts";

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
  const child: ChildProcess = spawn(NSD_BINARY, ["-d", "-c", join(dir, "nsd.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
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
  const resolver = createDnsResolver({ server: { host: "127.0.0.1", port }, timeoutMs: 2000, retries: 2 });
  // Ready when the first zone's SOA answers; a zone error makes nsd exit, and we say why.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nsd exited (${child.exitCode}) before answering:\n${output}`);
    }
    try {
      const soa = await createDnsResolver({
        server: { host: "127.0.0.1", port },
        timeoutMs: 300,
        retries: 0,
      }).query(zones[0]?.origin ?? ".", "NS");
      if (soa.rcode === "NOERROR") break;
    } catch (error) {
      // A zone nsd could not load answers SERVFAIL: say what nsd logged.
      if (error instanceof DnsQueryError && error.failure === "servfail") {
        await stop();
        throw new Error(`nsd could not load a zone:\n${output}`);
      }
      // Not listening yet: a refused UDP port fails at once, so pace the polls.
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`nsd did not answer within 20 s: ${String(error)}\n${output}`);
      }
    }
  }
  return { port, resolver, stop };
}
