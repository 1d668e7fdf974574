import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsResolver, type DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkDnsbl } from "../../../../core/posture/dnsbl-check.ts";
import { DEFAULT_DNSBLS, type DnsblList, dnsblVerdict } from "../../../../core/posture/dnsbl-lists.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";

/**
 * Real-world-like blocklist answers (RFC 5782 §2.1): each domain's one MX address is listed, or
 * not, in a stand-in of Spamhaus ZEN and of a plain list; the stand-ins answer what the real
 * lists answer for such an address.
 */
const ZEN = "zen.spamhaus.org";
const PLAIN = "bl.example.test";
const mx = (label: string, address: string): ZoneRecord[] => [
  [`${label}.test`, "MX", `10 mx.${label}.test`],
  [`mx.${label}.test`, address.includes(":") ? "AAAA" : "A", address],
];
const ZONE: ZoneRecord[] = [
  ...mx("clean", "192.0.2.1"),
  ...mx("sbl", "192.0.2.2"),
  ["2.2.0.192.zen.spamhaus.org", "A", "127.0.0.2"],
  ...mx("pbl", "192.0.2.3"),
  ["3.2.0.192.zen.spamhaus.org", "A", "127.0.0.10"],
  ["3.2.0.192.zen.spamhaus.org", "A", "127.0.0.11"],
  ...mx("refused", "192.0.2.4"),
  ["4.2.0.192.zen.spamhaus.org", "A", "127.255.255.254"],
  ...mx("plain", "192.0.2.5"),
  ["5.2.0.192.bl.example.test", "A", "127.0.0.2"],
  ...mx("hijacked", "192.0.2.6"),
  ["6.2.0.192.bl.example.test", "A", "198.51.100.80"],
  ...mx("lost", "192.0.2.7"),
  ["7.2.0.192.zen.spamhaus.org", "SILENT", ""],
  ...mx("v6", "2001:db8::1"),
  [`1.0.0.0.${"0.".repeat(20)}8.b.d.0.1.0.0.2.zen.spamhaus.org`, "A", "127.0.0.4"],
  ["9.113.0.203.bl.example.test", "A", "127.0.0.3"],
  ...mx("refused-and-listed", "192.0.2.8"),
  ["8.2.0.192.zen.spamhaus.org", "A", "127.255.255.254"],
  ["8.2.0.192.bl.example.test", "A", "127.0.0.2"],
  ...mx("listed-and-lost", "192.0.2.9"),
  ["9.2.0.192.zen.spamhaus.org", "A", "127.0.0.2"],
  ["9.2.0.192.bl.example.test", "SILENT", ""],
];
const LISTS: DnsblList[] = [
  { zone: ZEN, severity: "CRITICAL" },
  { zone: PLAIN, severity: "WARNING" },
];

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer(ZONE);
});
afterAll(() => peer.close());

const summary = (result: PostureResult) => [result.status, result.reason, result.message];

describe("blocklist answer codes", () => {
  const zen = DEFAULT_DNSBLS.find((list) => list.zone === ZEN) as DnsblList;
  it.each([
    ["127.0.0.2", "listed", "SBL (Spamhaus Block List: a spam source or operation)"],
    ["127.0.0.4", "listed", "XBL (Exploits Block List: a compromised or infected host)"],
    ["127.0.0.9", "listed", "DROP (Don't Route Or Peer: a hijacked or criminal network)"],
    ["127.0.0.10", "listed", "PBL policy listing (ISP-maintained: this range should not send mail directly)"],
    ["127.255.255.252", "refused", "query refused: typing error in the DNSBL name"],
    [
      "127.255.255.255",
      "refused",
      "query refused: over the free-use limit; use a DQS key or your own resolver",
    ],
    ["127.255.255.250", "refused", "query refused or in error (127.255.255.x is no listing)"],
    ["127.0.0.1", "refused", "query refused (127.0.0.1 is no listing code, RFC 5782 §5)"],
    ["10.0.0.1", "refused", "no DNSBL answer: outside 127.0.0.0/8 (does the resolver rewrite NXDOMAIN?)"],
    ["127.0.0.99", "listed", "listed (code without a known meaning)"],
  ])("Spamhaus ZEN %s: %s", (code, kind, meaning) => {
    expect(dnsblVerdict(zen, code)).toEqual({ kind, code, meaning });
  });
});

describe("blocklist posture", () => {
  it.each([
    ["clean", "OK", "ok", "1 address not listed on 2 lists"],
    [
      "sbl",
      "CRITICAL",
      "dnsbl-listed",
      "192.0.2.2 (MX mx.sbl.test) is listed on zen.spamhaus.org: 127.0.0.2 SBL (Spamhaus Block List: a spam source or operation)",
    ],
    [
      "pbl",
      "CRITICAL",
      "dnsbl-listed",
      "192.0.2.3 (MX mx.pbl.test) is listed on zen.spamhaus.org: 127.0.0.10 PBL policy listing (ISP-maintained: this range should not send mail directly); 127.0.0.11 PBL policy listing (Spamhaus-maintained: this range should not send mail directly)",
    ],
    [
      "refused",
      "UNKNOWN",
      "dnsbl-refused",
      "zen.spamhaus.org for 192.0.2.4 (MX mx.refused.test): 127.255.255.254 query refused: asked through a public or open resolver (or one without reverse DNS); use a DQS key or your own resolver",
    ],
    [
      "plain",
      "WARNING",
      "dnsbl-listed",
      "192.0.2.5 (MX mx.plain.test) is listed on bl.example.test: 127.0.0.2 listed (code without a known meaning)",
    ],
    [
      "hijacked",
      "UNKNOWN",
      "dnsbl-refused",
      "bl.example.test for 192.0.2.6 (MX mx.hijacked.test): 198.51.100.80 no DNSBL answer: outside 127.0.0.0/8 (does the resolver rewrite NXDOMAIN?)",
    ],
    [
      "v6",
      "CRITICAL",
      "dnsbl-listed",
      "2001:db8::1 (MX mx.v6.test) is listed on zen.spamhaus.org: 127.0.0.4 XBL (Exploits Block List: a compromised or infected host)",
    ],
  ])("%s.test: %s %s", async (label, status, reason, message) => {
    expect(summary(await checkDnsbl(peer.resolver, `${label}.test`, { dnsbls: LISTS }))).toEqual([
      status,
      reason,
      message,
    ]);
  });

  it("a refusal is never counted as a listing", async () => {
    const result = await checkDnsbl(peer.resolver, "refused.test", { dnsbls: LISTS });
    expect(result.facts.listings).toBe(0);
    expect(result.facts.lookups.map((lookup) => [lookup.zone, lookup.outcome])).toEqual([
      [ZEN, "refused"],
      [PLAIN, "not-listed"],
    ]);
  });

  it("outbound IPs are looked up beside the MX addresses, with a configured severity and meaning", async () => {
    const lists: DnsblList[] = [
      { zone: PLAIN, severity: "CRITICAL", codes: { "127.0.0.3": "policy: dynamic range" } },
    ];
    const result = await checkDnsbl(peer.resolver, "clean.test", {
      dnsbls: lists,
      outboundIps: ["203.0.113.9"],
    });
    expect(summary(result)).toEqual([
      "CRITICAL",
      "dnsbl-listed",
      "203.0.113.9 (outbound) is listed on bl.example.test: 127.0.0.3 policy: dynamic range",
    ]);
    expect(result.facts.listings).toBe(1);
  });

  it("no lists: nothing asked", async () => {
    const before = peer.queries.length;
    const result = await checkDnsbl(peer.resolver, "clean.test", { dnsbls: [] });
    expect(result.status).toBe("OK");
    expect(peer.queries.slice(before).map((query) => query.type)).toEqual(["MX", "A", "AAAA"]);
  });

  it("the default lists are asked when none are configured", async () => {
    const result = await checkDnsbl(peer.resolver, "clean.test");
    expect(result.facts.zones).toEqual(DEFAULT_DNSBLS.map((list) => list.zone));
    expect(result.facts.lookups).toHaveLength(DEFAULT_DNSBLS.length);
  });

  it("a refusal does not hide a WARNING listing on another list: graded OK below it", async () => {
    const result = await checkDnsbl(peer.resolver, "refused-and-listed.test", { dnsbls: LISTS });
    expect(summary(result)).toEqual([
      "WARNING",
      "dnsbl-listed",
      "192.0.2.8 (MX mx.refused-and-listed.test) is listed on bl.example.test: 127.0.0.2 listed (code without a known meaning)",
    ]);
    expect(result.findings.map((found) => [found.status, found.reason])).toEqual([
      ["WARNING", "dnsbl-listed"],
      ["OK", "dnsbl-refused"],
    ]);
  });

  it("an unanswered list beside a CRITICAL listing is a WARNING below it", async () => {
    const fast = createDnsResolver({
      server: { host: "127.0.0.1", port: peer.port },
      timeoutMs: 200,
      retries: 0,
    });
    const result = await checkDnsbl(fast, "listed-and-lost.test", { dnsbls: LISTS });
    expect(summary(result)).toEqual([
      "CRITICAL",
      "dnsbl-listed",
      "192.0.2.9 (MX mx.listed-and-lost.test) is listed on zen.spamhaus.org: 127.0.0.2 SBL (Spamhaus Block List: a spam source or operation)",
    ]);
    expect(result.findings.map((found) => [found.status, found.reason])).toEqual([
      ["CRITICAL", "dnsbl-listed"],
      ["WARNING", "dns-error"],
    ]);
  });

  it("the default lists leave out Barracuda, which answers only registered resolvers", () => {
    expect(DEFAULT_DNSBLS.map((list) => list.zone)).toEqual([
      "zen.spamhaus.org",
      "bl.spamcop.net",
      "psbl.surriel.com",
      "dnsbl-1.uceprotect.net",
      "bl.mailspike.net",
    ]);
  });

  it("a list that does not answer: UNKNOWN dns-error naming the query", async () => {
    const fast = createDnsResolver({
      server: { host: "127.0.0.1", port: peer.port },
      timeoutMs: 200,
      retries: 0,
    });
    expect(summary(await checkDnsbl(fast, "lost.test", { dnsbls: LISTS }))).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS A 7.2.0.192.zen.spamhaus.org @127.0.0.1:${peer.port}: no reply to 1 UDP try of 200 ms each`,
    ]);
  });
});
