import { describe, expect, it } from "vitest";
import { aligned, parseDmarc } from "../../../../core/posture/dmarc-parse.ts";
import { inNetwork } from "../../../../core/posture/ip-network.ts";
import { parseSpf } from "../../../../core/posture/spf-parse.ts";

describe("SPF grammar (RFC 7208)", () => {
  it.each([
    ["§4.6.1", "v=spf1 -all", { mechanisms: [{ qualifier: "-", kind: "all", text: "-all" }] }],
    ["§5.6", "v=spf1 ip4:192.0.2.0/24 ~all", "ip4"],
    ["§5.6", "v=spf1 ip6:2001:db8::/32 -all", "ip6"],
    ["§5.3", "v=spf1 a/24//64 -all", "a"],
    ["§5.4", "v=spf1 mx:mail.example.test/28 -all", "mx"],
    ["§7.1", "v=spf1 exists:%{i}.spf.example.test -all", "exists"],
    ["§6", "v=spf1 redirect=_spf.example.test", "redirect"],
    ["§6 unknown modifier ignored", "v=spf1 foo=bar -all", "all"],
    ["§4.5 case", "V=SPF1 -ALL", "all"],
  ])("accepts (%s) %s", (_section, text, expected) => {
    const parsed = parseSpf(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    if (typeof expected === "string") {
      const kinds = [
        ...parsed.record.mechanisms.map((m) => m.kind),
        parsed.record.redirect ? "redirect" : "",
      ];
      expect(kinds).toContain(expected);
    } else {
      expect(parsed.record).toEqual(expected);
    }
  });

  it.each([
    ["§5", "v=spf1 foo -all", 'unknown mechanism "foo" (RFC 7208 §5)'],
    ["§5.6", "v=spf1 ip4:192.0.2.300 -all", '"ip4:192.0.2.300" needs an IPv4 network (RFC 7208 §5.6)'],
    ["§5.6", "v=spf1 ip4:192.0.2.0/33 -all", '"ip4:192.0.2.0/33" has a bad prefix length (RFC 7208 §5.6)'],
    ["§5.6", "v=spf1 ip6:192.0.2.1 -all", '"ip6:192.0.2.1" needs an IPv6 network (RFC 7208 §5.6)'],
    ["§5.1", "v=spf1 all:example.test", '"all:example.test" takes no argument (RFC 7208 §5.1)'],
    ["§5.2", "v=spf1 include: -all", '"include:" needs a domain (RFC 7208 §5.2, §5.7)'],
    ["§6", "v=spf1 redirect=a.test redirect=b.test", '"redirect=" appears more than once (RFC 7208 §6)'],
    [
      "§7.1",
      "v=spf1 include:%{z}.example.test",
      '"include:%{z}.example.test": the domain has a malformed macro (RFC 7208 §7.1)',
    ],
    ["§4.5", "v=spf10 -all", 'the record does not start with "v=spf1"'],
    [
      "§5.2",
      "v=spf1 include:localhost -all",
      '"include:localhost": the domain is not a domain name with at least two labels',
    ],
  ])("rejects (%s) %s", (_section, text, error) => {
    expect(parseSpf(text)).toEqual({ ok: false, error });
  });
});

describe("DMARC grammar (RFC 7489)", () => {
  it("reads every tag, with defaults for the absent ones (§6.3)", () => {
    expect(
      parseDmarc("v=DMARC1; p=reject; rua=mailto:agg@example.test,mailto:b@example.test!10m; adkim=s"),
    ).toEqual({
      ok: true,
      record: {
        p: "reject",
        sp: "reject",
        pct: 100,
        rua: ["mailto:agg@example.test", "mailto:b@example.test!10m"],
        ruf: [],
        adkim: "s",
        aspf: "r",
      },
    });
  });

  it.each([
    [
      "§6.3 p required",
      "v=DMARC1; rua=mailto:a@example.test",
      "the required tag p= is missing (RFC 7489 §6.3)",
    ],
    ["§6.3 p values", "v=DMARC1; p=block", "p=block is not none, quarantine or reject"],
    ["§6.3 sp values", "v=DMARC1; p=none; sp=drop", "sp=drop is not none, quarantine or reject"],
    ["§6.3 pct", "v=DMARC1; p=none; pct=150", "pct=150 is not a whole number from 0 to 100"],
    ["§6.3 aspf", "v=DMARC1; p=none; aspf=x", "aspf=x is not r (relaxed) or s (strict)"],
    [
      "§6.2 URI",
      "v=DMARC1; p=none; rua=agg@example.test",
      'rua= has a malformed URI "agg@example.test" (RFC 7489 §6.2)',
    ],
    ["§6.4 pairs", "v=DMARC1; p=none; garbage", '"garbage" is not a tag=value pair (RFC 7489 §6.4)'],
    ["§6.4 v first", "p=none; v=DMARC1", "the record must start with v=DMARC1"],
    ["duplicate", "v=DMARC1; p=none; p=reject", "the tag p= appears more than once"],
  ])("rejects (%s) %s", (_section, text, error) => {
    expect(parseDmarc(text)).toEqual({ ok: false, error });
  });

  it.each([
    ["example.test", "example.test", "s", true],
    ["mail.example.test", "example.test", "s", false],
    ["mail.example.test", "example.test", "r", true],
    ["example.test", "bounce.example.test", "r", true],
    ["other.test", "example.test", "r", false],
    // Siblings under one registered domain share its organizational domain (§3.2).
    ["news.example.com", "mail.example.com", "r", true],
    ["news.example.com", "mail.example.com", "s", false],
    // Two registrations under a public suffix (co.uk) or a private one (github.io) do not.
    ["a.co.uk", "b.co.uk", "r", false],
    ["alice.github.io", "bob.github.io", "r", false],
  ] as const)("From %s aligns with %s in mode %s: %s (§3.1)", (from, domain, mode, expected) => {
    expect(aligned(from, domain, mode)).toBe(expected);
  });
});

describe("IP networks for ip4/ip6/a/mx (RFC 7208 §5.6)", () => {
  it.each([
    ["192.0.2.7", "192.0.2.0", 24, true],
    ["192.0.3.7", "192.0.2.0", 24, false],
    ["192.0.2.7", "192.0.2.7", undefined, true],
    ["2001:db8::1", "2001:db8::", 32, true],
    ["2001:db9::1", "2001:db8::", 32, false],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.0", 120, true],
    ["192.0.2.7", "2001:db8::", 0, false],
  ] as const)("%s in %s/%s: %s", (address, network, prefix, expected) => {
    expect(inNetwork(address, network, prefix)).toBe(expected);
  });
});
