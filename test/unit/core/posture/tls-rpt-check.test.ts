import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsResolver, type DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { checkTlsRpt } from "../../../../core/posture/tls-rpt-check.ts";
import { parseTlsRpt } from "../../../../core/posture/tls-rpt-parse.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer } from "../../../support/dns-zone-peer.ts";

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer([
    ["_smtp._tls.good.test", "TXT", "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"],
    ["_smtp._tls.good.test", "TXT", "some-other=verification"],
    ["_smtp._tls.two.test", "TXT", "v=TLSRPTv1; rua=mailto:a@two.test"],
    ["_smtp._tls.two.test", "TXT", "v=TLSRPTv1; rua=mailto:b@two.test"],
    ["_smtp._tls.http.test", "TXT", "v=TLSRPTv1; rua=http://reports.http.test/tls"],
    ["_smtp._tls.norua.test", "TXT", "v=TLSRPTv1;"],
    ["_smtp._tls.broken.test", "SERVFAIL", ""],
    ["_smtp._tls.lost.test", "SILENT", ""],
    ["absent.test", "A", "192.0.2.1"],
  ]);
});
afterAll(() => peer.close());

const summary = (result: PostureResult) => [result.status, result.reason, result.message];

describe("TLS-RPT record grammar (RFC 8460 §3)", () => {
  it.each([
    ["v=TLSRPTv1; rua=mailto:tls@example.com", ["mailto:tls@example.com"]],
    [
      "v=TLSRPTv1;rua=mailto:a@example.com,https://reports.example.com/v1/tlsrpt;",
      ["mailto:a@example.com", "https://reports.example.com/v1/tlsrpt"],
    ],
    ["v=TLSRPTv1; rua=mailto:a@example.com; ext_1=value", ["mailto:a@example.com"]],
  ])("%s", (text, rua) => {
    expect(parseTlsRpt(text)).toEqual({ ok: true, record: { rua } });
  });

  it.each([
    ["rua=mailto:a@example.com; v=TLSRPTv1", "the record must start with v=TLSRPTv1"],
    ["v=TLSRPTv1", "the required field rua= is missing (RFC 8460 §3)"],
    [
      "v=TLSRPTv1; rua=ftp://example.com/x",
      'rua=: "ftp://example.com/x" is neither mailto: nor https: (RFC 8460 §3)',
    ],
    ["v=TLSRPTv1; rua=mailto:nobody", 'rua=: "mailto:nobody" is no mailto: address'],
    ["v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "rua= appears more than once"],
    ["v=TLSRPTv1; rua=mailto:a@example.com;; x=y", 'an empty field (";;")'],
    [
      "v=TLSRPTv1; rua=mailto:a@example.com; bad field",
      '"bad field" is not a name=value field (RFC 8460 §3)',
    ],
  ])("%s: %s", (text, error) => {
    expect(parseTlsRpt(text)).toEqual({ ok: false, error });
  });
});

describe("TLS-RPT posture", () => {
  it.each([
    ["good.test", false, "OK", "ok", "TLS-RPT reports to mailto:tlsrpt@good.test"],
    ["absent.test", false, "OK", "ok", "TLS-RPT not published"],
    ["absent.test", true, "WARNING", "tls-rpt-missing", "_smtp._tls.absent.test has no v=TLSRPTv1 record"],
    [
      "two.test",
      false,
      "WARNING",
      "tls-rpt-multiple",
      "_smtp._tls.two.test has 2 v=TLSRPTv1 records: senders send no reports",
    ],
    [
      "http.test",
      false,
      "WARNING",
      "tls-rpt-syntax",
      '_smtp._tls.http.test: rua=: "http://reports.http.test/tls" is neither mailto: nor https: (RFC 8460 §3)',
    ],
    [
      "norua.test",
      false,
      "WARNING",
      "tls-rpt-syntax",
      "_smtp._tls.norua.test: the required field rua= is missing (RFC 8460 §3)",
    ],
  ])("%s (required %s): %s %s", async (domain, required, status, reason, message) => {
    expect(summary(await checkTlsRpt(peer.resolver, domain, { required }))).toEqual([
      status,
      reason,
      message,
    ]);
  });

  it("SERVFAIL and a lost query are UNKNOWN dns-errors naming the query", async () => {
    const fast = createDnsResolver({
      server: { host: "127.0.0.1", port: peer.port },
      timeoutMs: 200,
      retries: 0,
    });
    expect(summary(await checkTlsRpt(fast, "broken.test"))).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS TXT _smtp._tls.broken.test @127.0.0.1:${peer.port}: SERVFAIL (the server could not answer; often a DNSSEC failure)`,
    ]);
    expect(summary(await checkTlsRpt(fast, "lost.test"))).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS TXT _smtp._tls.lost.test @127.0.0.1:${peer.port}: no reply to 1 UDP try of 200 ms each`,
    ]);
  });
});
