import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsResolver, type DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { checkReverseDns } from "../../../../core/posture/reverse-dns-check.ts";
import { ptrName, reversedName } from "../../../../core/posture/reverse-names.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";

const V6 = "2001:db8::25";
const V6_PTR = `5.2.0.0.${"0.".repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa`;

/** Each case a domain with one MX host; its addresses' PTRs under in-addr.arpa and ip6.arpa. */
const ZONE: ZoneRecord[] = [
  ["good.test", "MX", "10 mx.good.test"],
  ["mx.good.test", "A", "192.0.2.10"],
  ["mx.good.test", "AAAA", V6],
  ["10.2.0.192.in-addr.arpa", "PTR", "mx.good.test"],
  [V6_PTR, "PTR", "mx.good.test"],
  ["noptr.test", "MX", "10 mx.noptr.test"],
  ["mx.noptr.test", "A", "192.0.2.11"],
  ["mismatch.test", "MX", "10 mx.mismatch.test"],
  ["mx.mismatch.test", "A", "192.0.2.12"],
  ["12.2.0.192.in-addr.arpa", "PTR", "dyn-12.isp.test"],
  ["dyn-12.isp.test", "A", "192.0.2.99"],
  ["dangling.test", "MX", "10 mx.dangling.test"],
  ["mx.dangling.test", "A", "192.0.2.13"],
  ["13.2.0.192.in-addr.arpa", "PTR", "gone.isp.test"],
  ["lost.test", "MX", "10 mx.lost.test"],
  ["mx.lost.test", "A", "192.0.2.14"],
  ["14.2.0.192.in-addr.arpa", "SILENT", ""],
  ["nomx.test", "A", "192.0.2.15"],
  ["flood.test", "MX", "10 mx.flood.test"],
  ["mx.flood.test", "A", "192.0.2.16"],
  ...Array.from({ length: 40 }, (_, i): ZoneRecord => ["16.2.0.192.in-addr.arpa", "PTR", `n${i}.flood.test`]),
  ["n39.flood.test", "A", "192.0.2.16"],
];

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer(ZONE);
});
afterAll(() => peer.close());

const summary = (result: PostureResult) => [result.status, result.reason, result.message];

describe("reverse names (RFC 1035 §3.5, RFC 3596 §2.5)", () => {
  it.each([
    ["192.0.2.1", "1.2.0.192.in-addr.arpa"],
    [V6, V6_PTR],
    ["::ffff:192.0.2.1", `1.0.2.0.0.0.0.c.f.f.f.f.${"0.".repeat(19)}0.ip6.arpa`],
  ])("%s -> %s", (address, name) => {
    expect(ptrName(address)).toBe(name);
  });

  it("a DNSBL zone takes the place of in-addr.arpa; a non-address is refused", () => {
    expect(reversedName("127.0.0.2", "zen.spamhaus.org.")).toBe("2.0.0.127.zen.spamhaus.org");
    expect(() => reversedName("mx.example.com", "zen.spamhaus.org")).toThrow(
      '"mx.example.com" is not an IP address',
    );
  });
});

describe("reverse DNS posture", () => {
  it.each([
    ["good.test", "OK", "ok", `PTR 192.0.2.10 -> mx.good.test, PTR ${V6} -> mx.good.test`],
    [
      "noptr.test",
      "WARNING",
      "ptr-missing",
      "192.0.2.11 (MX mx.noptr.test) has no PTR record at 11.2.0.192.in-addr.arpa",
    ],
    [
      "mismatch.test",
      "WARNING",
      "ptr-mismatch",
      "192.0.2.12 (MX mx.mismatch.test): PTR dyn-12.isp.test -> 192.0.2.99; none resolves back to 192.0.2.12",
    ],
    [
      "dangling.test",
      "WARNING",
      "ptr-mismatch",
      "192.0.2.13 (MX mx.dangling.test): PTR gone.isp.test -> no A; none resolves back to 192.0.2.13",
    ],
    ["nomx.test", "OK", "ok", "no MX addresses to look up"],
  ])("%s: %s %s", async (domain, status, reason, message) => {
    expect(summary(await checkReverseDns(peer.resolver, domain))).toEqual([status, reason, message]);
  });

  it("compares the SMTP banner's host name with the confirmed PTR", async () => {
    const same = await checkReverseDns(peer.resolver, "good.test", {
      bannerHosts: { "MX.good.test": "mx.good.test." },
    });
    expect(same.status).toBe("OK");
    const other = await checkReverseDns(peer.resolver, "good.test", {
      bannerHosts: { "mx.good.test": "smtp.good.test" },
    });
    expect(summary(other)).toEqual([
      "WARNING",
      "ptr-banner-mismatch",
      "192.0.2.10 (MX mx.good.test): the SMTP banner says smtp.good.test, the confirmed PTR is mx.good.test",
    ]);
    expect(other.findings).toHaveLength(2);
    expect(
      other.facts.addresses.map((entry) => [entry.address, entry.ptr, entry.confirmed, entry.banner]),
    ).toEqual([
      ["192.0.2.10", ["mx.good.test"], ["mx.good.test"], "smtp.good.test"],
      [V6, ["mx.good.test"], ["mx.good.test"], "smtp.good.test"],
    ]);
  });

  it("a flood of PTR names: only the first ten are followed forward", async () => {
    const before = peer.queries.length;
    const result = await checkReverseDns(peer.resolver, "flood.test");
    expect(result.facts.addresses[0]?.ptr).toHaveLength(10);
    expect(
      peer.queries.slice(before).filter((query) => query.name.endsWith(".flood.test") && query.type === "A"),
    ).toHaveLength(11);
    expect([result.status, result.reason]).toEqual(["WARNING", "ptr-mismatch"]);
  });

  it("a PTR query without reply is an UNKNOWN dns-error naming it", async () => {
    const fast = createDnsResolver({
      server: { host: "127.0.0.1", port: peer.port },
      timeoutMs: 200,
      retries: 0,
    });
    expect(summary(await checkReverseDns(fast, "lost.test"))).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS PTR 14.2.0.192.in-addr.arpa @127.0.0.1:${peer.port}: no reply to 1 UDP try of 200 ms each`,
    ]);
  });
});
