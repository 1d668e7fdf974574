import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkDmarc } from "../../../../core/posture/dmarc-check.ts";
import { checkMx } from "../../../../core/posture/mx-check.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { checkSpf } from "../../../../core/posture/spf-check.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";

/** One zone for every row: each case is a subdomain of example.test with its own records. */
const includes = Array.from({ length: 11 }, (_, i) => `i${i}.example.test`);
const ZONE: ZoneRecord[] = [
  ["good.example.test", "MX", "10 mx1.good.example.test"],
  ["good.example.test", "MX", "20 mx2.good.example.test"],
  ["mx1.good.example.test", "A", "192.0.2.10"],
  ["mx2.good.example.test", "AAAA", "2001:db8::20"],
  ["good.example.test", "TXT", "v=spf1 ip4:192.0.2.0/24 include:_spf.good.example.test mx -all"],
  ["good.example.test", "TXT", "google-site-verification=abc"],
  ["_spf.good.example.test", "TXT", "v=spf1 ip6:2001:db8::/32 -all"],
  ["_dmarc.good.example.test", "TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@good.example.test"],
  ["cname.example.test", "MX", "10 alias.cname.example.test"],
  ["alias.cname.example.test", "CNAME", "real.cname.example.test"],
  ["real.cname.example.test", "A", "192.0.2.30"],
  ["literal.example.test", "MX", "10 192.0.2.40"],
  ["null.example.test", "MX", "0 ."],
  ["nullmixed.example.test", "MX", "0 ."],
  ["nullmixed.example.test", "MX", "10 mx.good.example.test"],
  ["nomx.example.test", "A", "192.0.2.50"],
  ["nomx-noaddr.example.test", "TXT", "hello"],
  ["halfdead.example.test", "MX", "10 mx1.good.example.test"],
  ["halfdead.example.test", "MX", "20 gone.halfdead.example.test"],
  ["dead.example.test", "MX", "10 gone.dead.example.test"],
  ["many.example.test", "TXT", `v=spf1 ${includes.map((d) => `include:${d}`).join(" ")} -all`],
  ...includes.map((d): ZoneRecord => [d, "TXT", "v=spf1 ip4:198.51.100.1 -all"]),
  ["two.example.test", "TXT", "v=spf1 -all"],
  ["two.example.test", "TXT", "v=spf1 ~all"],
  ["plusall.example.test", "TXT", "v=spf1 +all"],
  ["neutral.example.test", "TXT", "v=spf1 ip4:192.0.2.1 ?all"],
  ["noall.example.test", "TXT", "v=spf1 ip4:192.0.2.1"],
  [
    "void.example.test",
    "TXT",
    "v=spf1 a:v1.void.example.test a:v2.void.example.test mx:v3.void.example.test -all",
  ],
  ["badsyntax.example.test", "TXT", "v=spf1 ip4:300.1.1.1 -all"],
  ["softfail.example.test", "TXT", "v=spf1 ip4:192.0.2.1 ~all"],
  ["exists.example.test", "TXT", "v=spf1 exists:%{i}.rbl.example.test -all"],
  ["redirect.example.test", "TXT", "v=spf1 redirect=_spf.good.example.test"],
  ["missinginclude.example.test", "TXT", "v=spf1 include:nowhere.example.test -all"],
  ["_dmarc.none.example.test", "TXT", "v=DMARC1; p=none"],
  ["_dmarc.broken.example.test", "TXT", "v=DMARC1; p=maybe"],
  ["_dmarc.notfirst.example.test", "TXT", "p=reject; v=DMARC1"],
  ["_dmarc.twice.example.test", "TXT", "v=DMARC1; p=reject"],
  ["_dmarc.twice.example.test", "TXT", "v=DMARC1; p=none"],
  ["_dmarc.strict.example.test", "TXT", "v=DMARC1; p=quarantine; aspf=s"],
  ["nodmarc.example.test", "A", "192.0.2.60"],
  ["broken-upstream.example.test", "SERVFAIL", ""],
  ["_dmarc.broken-upstream.example.test", "SERVFAIL", ""],
  [
    "mxfail.example.test",
    "TXT",
    "v=spf1 mx:broken-upstream.example.test include:_spf.good.example.test -all",
  ],
  ["mxfail.example.test", "MX", "10 broken-upstream.example.test"],
];

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer(ZONE);
});
afterAll(() => peer.close());

const summary = (result: PostureResult) => [result.status, result.reason];

describe("MX posture", () => {
  it.each([
    ["RFC 5321 §5.1", "good.example.test", "OK", "ok"],
    ["RFC 2181 §10.3", "cname.example.test", "WARNING", "mx-cname"],
    ["RFC 5321 §5.1", "literal.example.test", "CRITICAL", "mx-ip-literal"],
    ["RFC 7505 §3", "null.example.test", "WARNING", "mx-null"],
    ["RFC 7505 §3", "nullmixed.example.test", "CRITICAL", "mx-invalid"],
    ["RFC 5321 §5.1 implicit MX", "nomx.example.test", "WARNING", "mx-missing"],
    ["RFC 5321 §5.1", "nomx-noaddr.example.test", "CRITICAL", "mx-missing"],
    ["RFC 5321 §5.1", "halfdead.example.test", "WARNING", "mx-host-unresolved"],
    ["RFC 5321 §5.1", "dead.example.test", "CRITICAL", "mx-host-unresolved"],
    ["RFC 2308 §2.1", "absent.example.test", "CRITICAL", "domain-missing"],
    ["RFC 1035 §4.1.1 SERVFAIL on a host", "mxfail.example.test", "UNKNOWN", "dns-error"],
  ])("(%s) %s: %s %s", async (_rfc, domain, status, reason) => {
    expect(summary(await checkMx(peer.resolver, domain))).toEqual([status, reason]);
  });

  it("lists the hosts by preference with their addresses", async () => {
    const result = await checkMx(peer.resolver, "good.example.test");
    expect(result.message).toBe("MX 10 mx1.good.example.test, 20 mx2.good.example.test");
    expect(result.facts.hosts).toEqual([
      { preference: 10, exchange: "mx1.good.example.test", addresses: ["192.0.2.10"] },
      { preference: 20, exchange: "mx2.good.example.test", addresses: ["2001:db8::20"] },
    ]);
  });

  it("names the MX hosts the service checks do not watch, and the watched hosts not in MX", async () => {
    const result = await checkMx(peer.resolver, "good.example.test", {
      endpointHosts: ["MX1.good.example.test", "smtp.elsewhere.test"],
    });
    expect(summary(result)).toEqual(["WARNING", "mx-endpoints-differ"]);
    expect(result.message).toBe(
      "MX hosts not watched: mx2.good.example.test; watched SMTP hosts not in MX: smtp.elsewhere.test",
    );
  });
});

describe("SPF posture", () => {
  it.each([
    ["RFC 7208 §4.6", "good.example.test", "OK", "ok"],
    ["RFC 7208 §4.6.4", "many.example.test", "CRITICAL", "spf-too-many-lookups"],
    ["RFC 7208 §4.5", "two.example.test", "CRITICAL", "spf-multiple"],
    ["RFC 7208 §5.1", "plusall.example.test", "CRITICAL", "spf-pass-all"],
    ["RFC 7208 §8.2", "neutral.example.test", "WARNING", "spf-neutral-all"],
    ["RFC 7208 §4.7", "noall.example.test", "WARNING", "spf-no-all"],
    ["RFC 7208 §4.6.4", "void.example.test", "CRITICAL", "spf-void-lookups"],
    ["RFC 7208 §4.6", "badsyntax.example.test", "CRITICAL", "spf-syntax"],
    ["RFC 7208 §5.2", "missinginclude.example.test", "CRITICAL", "spf-syntax"],
    ["RFC 7208 §4.5", "nodmarc.example.test", "WARNING", "spf-missing"],
    ["RFC 7208 §6.1", "redirect.example.test", "OK", "ok"],
    ["RFC 7208 §5 temperror", "mxfail.example.test", "UNKNOWN", "dns-error"],
    ["RFC 2308", "broken-upstream.example.test", "UNKNOWN", "dns-error"],
  ])("(%s) %s: %s %s", async (_rfc, domain, status, reason) => {
    expect(summary(await checkSpf(peer.resolver, domain))).toEqual([status, reason]);
  });

  it("counts lookups across includes and mx (RFC 7208 §4.6.4)", async () => {
    const good = await checkSpf(peer.resolver, "good.example.test");
    expect([good.facts.lookups, good.facts.voidLookups, good.facts.all]).toEqual([2, 0, "-"]);
    expect(good.message).toBe("SPF 2/10 lookups, -all");
    const many = await checkSpf(peer.resolver, "many.example.test");
    expect(many.facts.lookups).toBe(11);
    const voids = await checkSpf(peer.resolver, "void.example.test");
    expect(voids.facts.voidLookups).toBe(3);
  });

  it.each([
    ["ip4 match", "good.example.test", "192.0.2.99", "pass", "OK"],
    ["include ip6 match", "good.example.test", "2001:db8::99", "pass", "OK"],
    ["mx match", "good.example.test", "2001:db8::20", "pass", "OK"],
    ["-all", "good.example.test", "203.0.113.5", "fail", "CRITICAL"],
    ["~all", "softfail.example.test", "203.0.113.5", "softfail", "WARNING"],
    ["redirect", "redirect.example.test", "2001:db8::5", "pass", "OK"],
    ["exists", "exists.example.test", "203.0.113.5", "not-evaluated", "OK"],
  ])("sender IP (%s): %s from %s is %s", async (_case, domain, ip, result, status) => {
    const spf = await checkSpf(peer.resolver, domain, { senderIp: ip });
    expect([spf.facts.senderResult, spf.status]).toEqual([result, status]);
  });
});

describe("DMARC posture", () => {
  it.each([
    ["RFC 7489 §6.3", "good.example.test", "OK", "ok"],
    ["RFC 7489 §6.3", "none.example.test", "WARNING", "dmarc-monitoring-only"],
    ["RFC 7489 §6.3", "broken.example.test", "CRITICAL", "dmarc-syntax"],
    ["RFC 7489 §6.4", "notfirst.example.test", "CRITICAL", "dmarc-syntax"],
    ["RFC 7489 §6.6.3", "twice.example.test", "CRITICAL", "dmarc-multiple"],
    ["RFC 7489 §6.6.3", "nodmarc.example.test", "WARNING", "dmarc-missing"],
  ])("(%s) %s: %s %s", async (_rfc, domain, status, reason) => {
    expect(summary(await checkDmarc(peer.resolver, domain))).toEqual([status, reason]);
  });

  it("a SERVFAIL names the query in an UNKNOWN dns-error", async () => {
    const result = await checkDmarc(peer.resolver, "broken-upstream.example.test");
    expect(summary(result)).toEqual(["UNKNOWN", "dns-error"]);
    expect(result.message).toBe(
      `DNS TXT _dmarc.broken-upstream.example.test @127.0.0.1:${peer.port}: SERVFAIL (the server could not answer; often a DNSSEC failure)`,
    );
  });

  it("names the broken tag", async () => {
    expect((await checkDmarc(peer.resolver, "broken.example.test")).message).toBe(
      "_dmarc.broken.example.test: p=maybe is not none, quarantine or reject",
    );
  });

  it.each([
    ["relaxed, subdomain", "good.example.test", "probe.good.example.test", "OK"],
    ["strict, subdomain", "strict.example.test", "probe.strict.example.test", "WARNING"],
    ["strict, same", "strict.example.test", "strict.example.test", "OK"],
    ["relaxed, other domain", "good.example.test", "other.test", "WARNING"],
  ])("From alignment (RFC 7489 §3.1, %s)", async (_case, domain, fromDomain, status) => {
    expect((await checkDmarc(peer.resolver, domain, { fromDomain })).status).toBe(status);
  });
});
