import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DnsQueryError } from "../../core/dns/dns-errors.ts";
import { txtStrings } from "../../core/dns/dns-records.ts";
import { createDnsResolver } from "../../core/dns/dns-resolver.ts";
import { checkPosture } from "../../core/posture/check-posture.ts";
import { checkDmarc } from "../../core/posture/dmarc-check.ts";
import { checkMx } from "../../core/posture/mx-check.ts";
import type { PostureResult } from "../../core/posture/posture-result.ts";
import { checkSpf } from "../../core/posture/spf-check.ts";
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
`;

let nsd: NsdServer;
beforeAll(async () => {
  nsd = await startNsd([{ origin: "posture.test", records: RECORDS }]);
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

  it("the good domain: MX hosts, SPF counts and the sender's verdict, DMARC policy", async () => {
    const [mx, spf, dmarc] = await checkPosture(nsd.resolver, "good.posture.test", {
      senderIp: "127.0.0.99",
      fromDomain: "probe.good.posture.test",
      endpointHosts: ["mx1.good.posture.test", "mx2.good.posture.test"],
    });
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
