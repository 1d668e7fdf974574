import { mapBounded } from "../basics/map-bounded.ts";
import { addresses } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import type { Status } from "../model/status.ts";
import { DEFAULT_DNSBLS, type DnsblList, dnsblVerdict, knownCodes } from "./dnsbl-lists.ts";
import { mxHostAddresses } from "./mx-addresses.ts";
import { ask } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";
import { reversedName } from "./reverse-names.ts";

/** One address on one list: listed (with each code's meaning), not listed, refused or unanswered. */
export interface DnsblLookup {
  readonly address: string;
  /** "MX <host>" or "outbound". */
  readonly role: string;
  readonly zone: string;
  readonly outcome: "listed" | "not-listed" | "refused" | "dns-error";
  readonly codes?: { code: string; meaning: string }[];
}

export interface DnsblFacts {
  readonly zones: string[];
  readonly lookups: DnsblLookup[];
  /** How many (address, list) pairs are listed: the perfdata. */
  listings: number;
}

export interface DnsblCheckOptions {
  /** The lists to ask; the well-known defaults (DEFAULT_DNSBLS) when absent. */
  readonly dnsbls?: readonly DnsblList[];
  /** The monitor's or the site's outbound IPs (e.g. a NAT gateway's address), asked beside the MX addresses. */
  readonly outboundIps?: readonly string[];
}

/** Queries in flight at once: a domain with four MX addresses and six lists asks 24. */
const CONCURRENCY = 8;

/**
 * Blocklist posture: every MX address and every outbound address looked up in every list
 * (RFC 5782 §2.1: the reversed address under the list's zone; NXDOMAIN is not listed). A
 * listing has its list's status; a refusal is UNKNOWN, never a listing, and graded below a
 * listing beside it (which it must not hide).
 */
export async function checkDnsbl(
  resolver: DnsResolver,
  domain: string,
  options: DnsblCheckOptions = {},
): Promise<PostureResult<DnsblFacts>> {
  const started = Date.now();
  const findings: PostureFinding[] = [];
  const lists = (options.dnsbls ?? DEFAULT_DNSBLS).map((list) =>
    list.codes || list.refused ? list : { ...list, ...knownCodes(list.zone) },
  );
  const facts: DnsblFacts = { zones: lists.map((list) => list.zone), lookups: [], listings: 0 };
  const done = (okMessage = "") =>
    postureResult({ check: "dnsbl", domain, resolver: resolver.server, started, findings, facts, okMessage });
  const hosts = (await mxHostAddresses(resolver, domain, findings)) ?? [];
  const subjects = new Map<string, string>();
  for (const { host, addresses: ips } of hosts)
    for (const ip of ips) if (!subjects.has(ip)) subjects.set(ip, `MX ${host}`);
  for (const ip of options.outboundIps ?? []) if (!subjects.has(ip)) subjects.set(ip, "outbound");
  const pairs = [...subjects].flatMap(([address, role]) => lists.map((list) => ({ address, role, list })));
  const lookups = await mapBounded(pairs, CONCURRENCY, ({ address, role, list }) =>
    lookUp(resolver, address, role, list, findings),
  );
  facts.lookups.push(...lookups);
  facts.listings = lookups.filter((lookup) => lookup.outcome === "listed").length;
  if (facts.listings > 0) gradeBesideListing(findings);
  if (subjects.size === 0) return done("no MX or outbound addresses to look up");
  const counted = `${subjects.size} ${subjects.size === 1 ? "address" : "addresses"}`;
  return done(`${counted} not listed on ${lists.length} ${lists.length === 1 ? "list" : "lists"}`);
}

/**
 * A listing is news that a refusal or an unanswered query of another list must not hide: as
 * UNKNOWN they would rank above a WARNING listing and be shown first. Beside a listing they are
 * graded just below the worst listing (WARNING beside a CRITICAL one, OK beside a WARNING one),
 * so the result's status and first message are the listing's; the findings stay listed.
 */
function gradeBesideListing(findings: PostureFinding[]): void {
  const listed = findings.filter((found) => found.reason === "dnsbl-listed").map((found) => found.status);
  const below: Status = listed.includes("CRITICAL") ? "WARNING" : "OK";
  findings.forEach((found, index) => {
    if (found.status === "UNKNOWN") findings[index] = { ...found, status: below };
  });
}

async function lookUp(
  resolver: DnsResolver,
  address: string,
  role: string,
  list: DnsblList,
  findings: PostureFinding[],
): Promise<DnsblLookup> {
  const base = { address, role, zone: list.zone };
  const answer = await ask(resolver, reversedName(address, list.zone), "A", findings);
  if (!answer) return { ...base, outcome: "dns-error" };
  const verdicts = addresses(answer).map((code) => dnsblVerdict(list, code));
  if (verdicts.length === 0) return { ...base, outcome: "not-listed" };
  const codes = verdicts.map(({ code, meaning }) => ({ code, meaning }));
  const said = (kind: string) =>
    verdicts
      .filter((verdict) => verdict.kind === kind)
      .map((verdict) => `${verdict.code} ${verdict.meaning}`)
      .join("; ");
  // One refusal code makes the whole answer a refusal: its other codes are not to be trusted.
  if (verdicts.some((verdict) => verdict.kind === "refused")) {
    findings.push(finding("dnsbl-refused", `${list.zone} for ${address} (${role}): ${said("refused")}`));
    return { ...base, outcome: "refused", codes };
  }
  findings.push(
    finding(
      "dnsbl-listed",
      `${address} (${role}) is listed on ${list.zone}: ${said("listed")}`,
      list.severity,
    ),
  );
  return { ...base, outcome: "listed", codes };
}
