import type * as packet from "dns-packet";
import { createDnsResolver, type DnsResolver } from "../../core/dns/dns-resolver.ts";
import { type DnsPeer, startDnsPeer } from "./dns-peer.ts";

/**
 * An in-process DNS server answering from a list of records, as an authoritative server
 * would: NXDOMAIN for a name with no records at all, NODATA for a name without the type
 * asked, a CNAME followed to its target's records. Values: A/AAAA an address, MX
 * "10 host", TXT the string (split in 255-byte pieces), CNAME and PTR the target name. A name
 * with a "SERVFAIL" record answers every question with SERVFAIL, as a broken upstream would;
 * one with a "SILENT" record answers nothing at all, as a lost or dropped query.
 * TLSA "3 1 1 <hex>". `authenticated` says which answers carry the AD bit, as a validating
 * resolver sets it (none by default).
 */
export type ZoneRecord = readonly [
  name: string,
  type: "A" | "AAAA" | "MX" | "TXT" | "CNAME" | "PTR" | "TLSA" | "SERVFAIL" | "SILENT",
  value: string,
];

const lower = (name: string): string => name.replace(/\.$/, "").toLowerCase();

function toAnswer([name, type, value]: ZoneRecord): packet.Answer {
  if (type === "MX") {
    const [preference, exchange] = value.split(" ");
    return { name, type, ttl: 60, data: { preference: Number(preference), exchange: exchange ?? "" } };
  }
  if (type === "TLSA") {
    const [usage, selector, matchingType, hex] = value.split(" ");
    const data = {
      usage: Number(usage),
      selector: Number(selector),
      matchingType: Number(matchingType),
      certificate: Buffer.from(hex ?? "", "hex"),
    };
    return { name, type, ttl: 60, data } as packet.Answer;
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
  options: {
    authenticated?: (name: string, type: string) => boolean;
    readonly silent?: () => boolean;
  } = {},
): Promise<DnsPeer & { resolver: DnsResolver }> {
  const NXDOMAIN = 3;
  const SERVFAIL = 2;
  const AUTHENTIC_DATA = 1 << 5; // the AD bit of the header's flags (RFC 4035 §3.2.3)
  const peer = await startDnsPeer(({ name, type }) => {
    if (options.silent?.() === true) return undefined;
    const ad = options.authenticated?.(name, type) ? AUTHENTIC_DATA : 0;
    const answers: packet.Answer[] = [];
    let current = lower(name);
    for (let hops = 0; hops < 8; hops++) {
      const here = records.filter((record) => lower(record[0]) === current);
      if (here.length === 0) return answers.length === 0 ? { flags: NXDOMAIN | ad } : { answers, flags: ad };
      if (here.some((record) => record[1] === "SERVFAIL")) return { flags: SERVFAIL };
      if (here.some((record) => record[1] === "SILENT")) return undefined;
      const alias = here.find((record) => record[1] === "CNAME");
      if (alias && type !== "CNAME") {
        answers.push(toAnswer(alias));
        current = lower(alias[2]);
        continue;
      }
      answers.push(...here.filter((record) => record[1] === type).map(toAnswer));
      return { answers, flags: ad };
    }
    return { answers, flags: ad };
  });
  const resolver = createDnsResolver({
    server: { host: "127.0.0.1", port: peer.port },
    timeoutMs: 2000,
    retries: 1,
  });
  return { ...peer, resolver };
}
