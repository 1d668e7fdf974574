import { addresses } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { ipFamily, sameAddress } from "./ip-network.ts";
import { mxHostAddresses } from "./mx-addresses.ts";
import { ask, normalName } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureRun } from "./posture-result.ts";
import { ptrName } from "./reverse-names.ts";

/** One MX address, its PTR names, and which of them resolve back to it. */
export interface ReverseDnsAddressFacts {
  readonly host: string;
  readonly address: string;
  readonly ptr: string[];
  /** The PTR names whose A/AAAA include the address (forward-confirmed). */
  readonly confirmed: string[];
  /** The host name the SMTP banner of this MX host announced, when the caller knows it. */
  readonly banner?: string;
}

export interface ReverseDnsFacts {
  readonly addresses: ReverseDnsAddressFacts[];
}

export interface ReverseDnsCheckOptions {
  /** MX host name -> the host name its SMTP banner (220 greeting) announced. */
  readonly bannerHosts?: Readonly<Record<string, string>>;
}

/** A hostile PTR set is not walked whole: receivers look at the first names too. */
const MAX_PTR_NAMES = 10;

const ptrNames = (records: readonly { type: string; data: unknown }[]): string[] =>
  records.filter((record) => record.type === "PTR").map((record) => normalName(String(record.data)));

/**
 * Reverse DNS of each MX address: a PTR exists, one of its names resolves back to the address
 * (forward-confirmed reverse DNS, "FCrDNS", RFC 8601 §3 "iprev"), and, when the banner's host
 * name is known, that name is one of the confirmed ones.
 */
export async function checkReverseDns(
  resolver: DnsResolver,
  domain: string,
  options: ReverseDnsCheckOptions = {},
): Promise<PostureResult<ReverseDnsFacts>> {
  const facts: ReverseDnsFacts = { addresses: [] };
  const { findings, done } = postureRun("reverse-dns", domain, resolver, facts);
  const hosts = await mxHostAddresses(resolver, domain, findings);
  if (!hosts) return done();
  const banners = new Map(
    Object.entries(options.bannerHosts ?? {}).map(([host, banner]) => [normalName(host), normalName(banner)]),
  );
  const pairs = hosts.flatMap(({ host, addresses: ips }) => ips.map((address) => ({ host, address })));
  const checked = await Promise.all(
    pairs.map(({ host, address }) =>
      reverseOf(resolver, host, address, banners.get(normalName(host)), findings),
    ),
  );
  facts.addresses.push(...checked.filter((entry) => entry !== undefined));
  if (pairs.length === 0) return done(`no MX addresses to look up`);
  return done(
    facts.addresses
      .map((entry) => `PTR ${entry.address} -> ${entry.confirmed[0] ?? entry.ptr[0] ?? "none"}`)
      .join(", "),
  );
}

async function reverseOf(
  resolver: DnsResolver,
  host: string,
  address: string,
  banner: string | undefined,
  findings: PostureFinding[],
): Promise<ReverseDnsAddressFacts | undefined> {
  const answer = await ask(resolver, ptrName(address), "PTR", findings);
  if (!answer) return undefined;
  const ptr = ptrNames(answer.records).slice(0, MAX_PTR_NAMES);
  const where = `${address} (MX ${host})`;
  const entry = { host, address, ptr, confirmed: [] as string[], ...(banner ? { banner } : {}) };
  if (ptr.length === 0) {
    findings.push(finding("ptr-missing", `${where} has no PTR record at ${ptrName(address)}`));
    return entry;
  }
  const type = ipFamily(address) === 6 ? "AAAA" : "A";
  const forward = await Promise.all(
    ptr.map(async (name) => {
      const back = await ask(resolver, name, type, findings);
      return { name, answered: back !== undefined, resolves: back ? addresses(back) : [] };
    }),
  );
  entry.confirmed.push(
    ...forward
      .filter((name) => name.resolves.some((ip) => sameAddress(ip, address)))
      .map((name) => name.name),
  );
  // A failed forward query is already a dns-error: it proves no mismatch.
  if (entry.confirmed.length === 0 && forward.every((name) => name.answered)) {
    const seen = forward
      .map((name) => `${name.name} -> ${name.resolves.length > 0 ? name.resolves.join(" ") : `no ${type}`}`)
      .join("; ");
    findings.push(finding("ptr-mismatch", `${where}: PTR ${seen}; none resolves back to ${address}`));
  }
  if (banner !== undefined && entry.confirmed.length > 0 && !entry.confirmed.includes(banner)) {
    findings.push(
      finding(
        "ptr-banner-mismatch",
        `${where}: the SMTP banner says ${banner}, the confirmed PTR is ${entry.confirmed.join(", ")}`,
      ),
    );
  }
  return entry;
}
