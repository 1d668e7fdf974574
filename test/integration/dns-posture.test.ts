import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DnsQueryError } from "../../core/dns/dns-errors.ts";
import { txtStrings } from "../../core/dns/dns-records.ts";
import { createDnsResolver } from "../../core/dns/dns-resolver.ts";
import { checkPosture } from "../../core/posture/check-posture.ts";
import { checkDmarc } from "../../core/posture/dmarc-check.ts";
import { checkDnsbl } from "../../core/posture/dnsbl-check.ts";
import type { DnsblList } from "../../core/posture/dnsbl-lists.ts";
import { checkMx } from "../../core/posture/mx-check.ts";
import type { PostureResult } from "../../core/posture/posture-result.ts";
import { checkReverseDns } from "../../core/posture/reverse-dns-check.ts";
import { checkSpf } from "../../core/posture/spf-check.ts";
import { checkTlsRpt } from "../../core/posture/tls-rpt-check.ts";
import { startSilentDnsPeer } from "../support/dns-peer.ts";
import { type NsdServer, startNsd } from "../support/nsd-server.ts";

/**
 * The posture checks against Debian's NSD on loopback, serving a zone of good and broken mail
 * DNS (scripts/ensure-dns-server.sh installs it). In the integration tier: it needs a program
 * from outside node_modules, as the other tests here need the demo mail host.
 */
// One quoted string per include: a TXT string holds at most 255 bytes (RFC 7208 §3.3 joins them).
const lookups = Array.from({ length: 11 }, (_, i) => `"include:i${i}.posture.test "`).join(" ");
const bigTxt = Array.from({ length: 12 }, (_, i) => `big IN TXT "${`record ${i} `.padEnd(200, "x")}"`).join(
  "\n",
);
const RECORDS = `
good IN MX 10 mx1.good
good IN MX 20 mx2.good
mx1.good IN A 127.0.0.10
mx2.good IN AAAA ::1
good IN TXT "v=spf1 ip4:127.0.0.0/24 include:_spf.good.posture.test mx -all"
_spf.good IN TXT "v=spf1 ip6:2001:db8::/32 -all"
_dmarc.good IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.posture.test"
cname IN MX 10 alias.cname
alias.cname IN CNAME real.cname
real.cname IN A 127.0.0.30
literal IN MX 10 127.0.0.40.
null IN MX 0 .
${Array.from({ length: 11 }, (_, i) => `i${i} IN TXT "v=spf1 ip4:198.51.100.${i} -all"`).join("\n")}
many IN TXT "v=spf1 " ${lookups} "-all"
two IN TXT "v=spf1 -all"
two IN TXT "v=spf1 ~all"
plusall IN TXT "v=spf1 +all"
void IN TXT "v=spf1 a:v1.void.posture.test a:v2.void.posture.test mx:v3.void.posture.test -all"
_dmarc.none IN TXT "v=DMARC1; p=none"
_dmarc.reject IN TXT "v=DMARC1; p=reject; aspf=s"
_dmarc.malformed IN TXT "v=DMARC1; p=reject; pct=abc"
${bigTxt}
_smtp._tls.good IN TXT "v=TLSRPTv1; rua=mailto:tls@good.posture.test,https://reports.good.posture.test/tlsrpt"
_smtp._tls.two IN TXT "v=TLSRPTv1; rua=mailto:a@two.posture.test"
_smtp._tls.two IN TXT "v=TLSRPTv1; rua=mailto:b@two.posture.test"
_smtp._tls.badrua IN TXT "v=TLSRPTv1; rua=ftp://reports.posture.test/"
mismatch IN MX 10 mx.mismatch
mx.mismatch IN A 127.0.0.11
other IN A 127.0.0.12
noptr IN MX 10 mx.noptr
mx.noptr IN A 127.0.0.13
listed IN MX 10 mx.listed
mx.listed IN A 127.0.0.20
refusedbl IN MX 10 mx.refusedbl
mx.refusedbl IN A 127.0.0.21
`;

/** The reverse zones of 127.0.0.0/24 and of ::/64 (RFC 1035 §3.5, RFC 3596 §2.5). */
const REVERSE_V4 = `
10 IN PTR mx1.good.posture.test.
11 IN PTR other.posture.test.
20 IN PTR mx.listed.posture.test.
21 IN PTR mx.refusedbl.posture.test.
`;
const REVERSE_V6 = `1${".0".repeat(15)} IN PTR mx2.good.posture.test.\n`;

/** A blocklist zone (RFC 5782 §2.1): one address listed, one answered with Spamhaus's refusal code. */
const DNSBL = `
20.0.0.127 IN A 127.0.0.2
20.0.0.127 IN TXT "listed for the test"
21.0.0.127 IN A 127.255.255.254
`;
const LISTS: DnsblList[] = [
  {
    zone: "dnsbl.test",
    severity: "CRITICAL",
    refused: { "127.255.255.254": "query refused: public resolver" },
  },
];

let nsd: NsdServer;
beforeAll(async () => {
  nsd = await startNsd([
    { origin: "posture.test", records: RECORDS },
    { origin: "0.0.127.in-addr.arpa", records: REVERSE_V4 },
    { origin: `${"0.".repeat(16)}ip6.arpa`, records: REVERSE_V6 },
    { origin: "dnsbl.test", records: DNSBL },
  ]);
});
afterAll(() => nsd?.stop());

const summary = (result: PostureResult) => [result.status, result.reason];

describe("mail DNS posture against NSD", () => {
  it.each([
    ["good", "OK", "ok"],
    ["cname", "WARNING", "mx-cname"],
    ["literal", "CRITICAL", "mx-ip-literal"],
    ["null", "WARNING", "mx-null"],
    ["nxdomain", "CRITICAL", "domain-missing"],
  ])("MX of %s.posture.test: %s %s", async (label, status, reason) => {
    expect(summary(await checkMx(nsd.resolver, `${label}.posture.test`))).toEqual([status, reason]);
  });

  it.each([
    ["good", "OK", "ok"],
    ["many", "CRITICAL", "spf-too-many-lookups"],
    ["two", "CRITICAL", "spf-multiple"],
    ["plusall", "CRITICAL", "spf-pass-all"],
    ["void", "CRITICAL", "spf-void-lookups"],
  ])("SPF of %s.posture.test: %s %s", async (label, status, reason) => {
    expect(summary(await checkSpf(nsd.resolver, `${label}.posture.test`))).toEqual([status, reason]);
  });

  it.each([
    ["good", "OK", "ok"],
    ["none", "WARNING", "dmarc-monitoring-only"],
    ["reject", "OK", "ok"],
    ["malformed", "CRITICAL", "dmarc-syntax"],
  ])("DMARC of %s.posture.test: %s %s", async (label, status, reason) => {
    expect(summary(await checkDmarc(nsd.resolver, `${label}.posture.test`))).toEqual([status, reason]);
  });

  it.each([
    [
      "good",
      "OK",
      "ok",
      "TLS-RPT reports to mailto:tls@good.posture.test,https://reports.good.posture.test/tlsrpt",
    ],
    [
      "two",
      "WARNING",
      "tls-rpt-multiple",
      "_smtp._tls.two.posture.test has 2 v=TLSRPTv1 records: senders send no reports",
    ],
    [
      "badrua",
      "WARNING",
      "tls-rpt-syntax",
      '_smtp._tls.badrua.posture.test: rua=: "ftp://reports.posture.test/" is neither mailto: nor https: (RFC 8460 §3)',
    ],
    ["null", "OK", "ok", "TLS-RPT not published"],
  ])("TLS-RPT of %s.posture.test: %s %s", async (label, status, reason, message) => {
    const result = await checkTlsRpt(nsd.resolver, `${label}.posture.test`);
    expect([result.status, result.reason, result.message]).toEqual([status, reason, message]);
  });

  it.each([
    ["good", "OK", "ok", "PTR 127.0.0.10 -> mx1.good.posture.test, PTR ::1 -> mx2.good.posture.test"],
    [
      "mismatch",
      "WARNING",
      "ptr-mismatch",
      "127.0.0.11 (MX mx.mismatch.posture.test): PTR other.posture.test -> 127.0.0.12; none resolves back to 127.0.0.11",
    ],
    [
      "noptr",
      "WARNING",
      "ptr-missing",
      "127.0.0.13 (MX mx.noptr.posture.test) has no PTR record at 13.0.0.127.in-addr.arpa",
    ],
  ])("reverse DNS of %s.posture.test: %s %s", async (label, status, reason, message) => {
    const result = await checkReverseDns(nsd.resolver, `${label}.posture.test`);
    expect([result.status, result.reason, result.message]).toEqual([status, reason, message]);
  });

  it.each([
    ["good", "OK", "ok", "2 addresses not listed on 1 list"],
    [
      "listed",
      "CRITICAL",
      "dnsbl-listed",
      "127.0.0.20 (MX mx.listed.posture.test) is listed on dnsbl.test: 127.0.0.2 listed (code without a known meaning)",
    ],
    [
      "refusedbl",
      "UNKNOWN",
      "dnsbl-refused",
      "dnsbl.test for 127.0.0.21 (MX mx.refusedbl.posture.test): 127.255.255.254 query refused: public resolver",
    ],
  ])("blocklist of %s.posture.test: %s %s", async (label, status, reason, message) => {
    const result = await checkDnsbl(nsd.resolver, `${label}.posture.test`, { dnsbls: LISTS });
    expect([result.status, result.reason, result.message]).toEqual([status, reason, message]);
  });

  it("a blocklist zone the server does not serve: REFUSED, an UNKNOWN dns-error naming the query", async () => {
    const result = await checkDnsbl(nsd.resolver, "listed.posture.test", {
      dnsbls: [{ zone: "zen.spamhaus.org", severity: "CRITICAL" }],
    });
    expect([result.status, result.reason, result.message]).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS A 20.0.0.127.zen.spamhaus.org @127.0.0.1:${nsd.port}: REFUSED (the server will not answer this query)`,
    ]);
  });

  it("the good domain: MX hosts, SPF counts and the sender's verdict, DMARC policy", async () => {
    const [mx, spf, dmarc, mtaSts, tlsRpt, reverseDns, dnsbl] = await checkPosture(
      nsd.resolver,
      "good.posture.test",
      {
        senderIp: "127.0.0.99",
        fromDomain: "probe.good.posture.test",
        endpointHosts: ["mx1.good.posture.test", "mx2.good.posture.test"],
        dnsbls: LISTS,
      },
    );
    expect([mtaSts, tlsRpt, reverseDns, dnsbl].map((result) => [result?.check, result?.status])).toEqual([
      ["mta-sts", "OK"],
      ["tls-rpt", "OK"],
      ["reverse-dns", "OK"],
      ["dnsbl", "OK"],
    ]);
    expect(mx?.message).toBe("MX 10 mx1.good.posture.test, 20 mx2.good.posture.test");
    expect(spf?.facts).toMatchObject({ lookups: 2, voidLookups: 0, all: "-", senderResult: "pass" });
    expect(dmarc?.facts).toMatchObject({ policy: { p: "reject" }, spfAligned: true });
  });

  it("a large TXT RRset comes truncated over UDP and whole over TCP", async () => {
    const answer = await nsd.resolver.query("big.posture.test", "TXT");
    expect(answer.transport).toBe("tcp");
    expect(txtStrings(answer)).toHaveLength(12);
  });

  it("NXDOMAIN is an answer; NSD's authoritative answers carry no AD bit", async () => {
    const answer = await nsd.resolver.query("nothing-here.posture.test", "TXT");
    expect([answer.rcode, answer.authenticated]).toEqual(["NXDOMAIN", false]);
  });

  it("a server that never answers: a timeout error naming the query, as UNKNOWN dns-error", async () => {
    const silent = await startSilentDnsPeer();
    try {
      const resolver = createDnsResolver({
        server: { host: "127.0.0.1", port: silent.port },
        timeoutMs: 300,
        retries: 1,
      });
      const error = await resolver.query("good.posture.test", "MX").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DnsQueryError);
      expect((error as DnsQueryError).message).toBe(
        `DNS MX good.posture.test @127.0.0.1:${silent.port}: no reply to 2 UDP tries of 300 ms each`,
      );
      const mx = await checkMx(resolver, "good.posture.test");
      expect(summary(mx)).toEqual(["UNKNOWN", "dns-error"]);
      expect(mx.message).toContain("DNS MX good.posture.test");
    } finally {
      await silent.close();
    }
  });
});
