import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkDmarc } from "../../../../core/posture/dmarc-check.ts";
import { organizationalDomain } from "../../../../core/posture/organizational-domain.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer } from "../../../support/dns-zone-peer.ts";

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer([
    ["_dmarc.example.co.uk", "TXT", "v=DMARC1; p=reject; sp=quarantine"],
    ["_dmarc.lax.test", "TXT", "v=DMARC1; p=reject; sp=none"],
    ["_dmarc.own.lax.test", "TXT", "v=DMARC1; p=quarantine"],
    ["_dmarc.broken.test", "SERVFAIL", ""],
    ["mail.nothing.test", "A", "192.0.2.1"],
  ]);
});
afterAll(() => peer.close());

const summary = (result: PostureResult) => [result.status, result.reason, result.message];

describe("DMARC organizational-domain fallback (RFC 7489 §6.6.3)", () => {
  it.each([
    ["mail.example.co.uk", "example.co.uk"],
    ["a.b.example.com", "example.com"],
    ["user.github.io", "user.github.io"],
    ["co.uk", "co.uk"],
    ["Mail.Example.COM.", "example.com"],
  ])("the organizational domain of %s is %s (Public Suffix List)", (name, organizational) => {
    expect(organizationalDomain(name)).toBe(organizational);
  });

  it.each([
    [
      "mail.example.co.uk",
      "OK",
      "ok",
      "DMARC p=reject, no aggregate reports (the record of example.co.uk: sp=quarantine)",
      "example.co.uk",
    ],
    [
      "a.lax.test",
      "WARNING",
      "dmarc-monitoring-only",
      "_dmarc.lax.test: sp=none applies to a.lax.test, monitoring only",
      "lax.test",
    ],
    ["own.lax.test", "OK", "ok", "DMARC p=quarantine, no aggregate reports", "own.lax.test"],
    [
      "mail.nothing.test",
      "WARNING",
      "dmarc-missing",
      "neither _dmarc.mail.nothing.test nor _dmarc.nothing.test (its organizational domain) has a v=DMARC1 record",
      undefined,
    ],
    [
      "sub.broken.test",
      "UNKNOWN",
      "dns-error",
      "DNS TXT _dmarc.broken.test @127.0.0.1:PORT: SERVFAIL (the server could not answer; often a DNSSEC failure)",
      undefined,
    ],
  ])("%s: %s %s", async (domain, status, reason, message, recordDomain) => {
    const result = await checkDmarc(peer.resolver, domain);
    expect(summary(result)).toEqual([status, reason, message.replace("PORT", String(peer.port))]);
    expect(result.facts.recordDomain).toBe(recordDomain);
  });
});
