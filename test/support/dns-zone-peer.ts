import type * as packet from "dns-packet";
import { createDnsResolver, type DnsResolver } from "../../core/dns/dns-resolver.ts";
import { type DnsPeer, startDnsPeer } from "./dns-peer.ts";

/**
 * An in-process DNS server answering from a list of records, as an authoritative server
 * would: NXDOMAIN for a name with no records at all, NODATA for a name without the type
 * asked, a CNAME followed to its target's records. Values: A/AAAA an address, MX
 * "10 host", TXT the string (split in 255-byte pieces), CNAME the target. A name with a
 * "SERVFAIL" record answers every question with SERVFAIL, as a broken upstream would.
 */
export type ZoneRecord = readonly [
  name: string,
  type: "A" | "AAAA" | "MX" | "TXT" | "CNAME" | "SERVFAIL",
  value: string,
];

const lower = (name: string): string => name.replace(/\.$/, "").toLowerCase();

function toAnswer([name, type, value]: ZoneRecord): packet.Answer {
  if (type === "MX") {
    const [preference, exchange] = value.split(" ");
    return { name, type, ttl: 60, data: { preference: Number(preference), exchange: exchange ?? "" } };
  }
  if (type === "TXT") {
    const pieces = value.match(/[\s\S]{1,255}/g) ?? [""];
    return { name, type, ttl: 60, data: pieces };
  }
  return { name, type, ttl: 60, data: value } as packet.Answer;
}

/**
 * `records` is read at each query, so a test may change the zone between questions; while
 * `options.silent()` is true the server says nothing at all (the resolver times out).
 */
export async function startZonePeer(
  records: readonly ZoneRecord[],
  options: { readonly silent?: () => boolean } = {},
): Promise<DnsPeer & { resolver: DnsResolver }> {
  const NXDOMAIN = 3;
  const SERVFAIL = 2;
  const peer = await startDnsPeer(({ name, type }) => {
    if (options.silent?.() === true) return undefined;
    const answers: packet.Answer[] = [];
    let current = lower(name);
    for (let hops = 0; hops < 8; hops++) {
      const here = records.filter((record) => lower(record[0]) === current);
      if (here.length === 0) return answers.length === 0 ? { flags: NXDOMAIN } : { answers };
      if (here.some((record) => record[1] === "SERVFAIL")) return { flags: SERVFAIL };
      const alias = here.find((record) => record[1] === "CNAME");
      if (alias && type !== "CNAME") {
        answers.push(toAnswer(alias));
        current = lower(alias[2]);
        continue;
      }
      answers.push(...here.filter((record) => record[1] === type).map(toAnswer));
      return { answers };
    }
    return { answers };
  });
  const resolver = createDnsResolver({
    server: { host: "127.0.0.1", port: peer.port },
    timeoutMs: 2000,
    retries: 1,
  });
  return { ...peer, resolver };
}
