import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { main } from "../../../../local/cli/main.ts";
import { parseResolver } from "../../../../local/cli/posture-command.ts";
import { capturedIo } from "../../../support/captured-io.ts";
import { type DnsPeer, startSilentDnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer } from "../../../support/dns-zone-peer.ts";

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer([
    ["good.test", "MX", "10 mx.good.test"],
    ["mx.good.test", "A", "192.0.2.10"],
    ["10.2.0.192.in-addr.arpa", "PTR", "mx.good.test"],
    ["good.test", "TXT", "v=spf1 mx -all"],
    ["_dmarc.good.test", "TXT", "v=DMARC1; p=reject"],
    ["bad.test", "MX", "10 192.0.2.1"],
    ["bad.test", "TXT", "v=spf1 +all"],
    ["_dmarc.bad.test", "TXT", "v=DMARC1; p=none"],
    ["pkix.test", "MX", "10 mx.pkix.test"],
    ["mx.pkix.test", "A", "192.0.2.30"],
    ["_25._tcp.mx.pkix.test", "TLSA", `1 1 1 ${"ab".repeat(32)}`],
    ["listed.test", "MX", "10 mx.listed.test"],
    ["mx.listed.test", "A", "192.0.2.20"],
    ["20.2.0.192.in-addr.arpa", "PTR", "mail.isp.test"],
    ["mail.isp.test", "A", "192.0.2.21"],
    ["20.2.0.192.zen.spamhaus.org", "A", "127.0.0.10"],
    ["7.100.51.198.bl.example.test", "A", "127.0.0.2"],
    ["_smtp._tls.listed.test", "TXT", "v=TLSRPTv1; rua=ftp://x"],
  ]);
});
afterAll(() => peer.close());

async function posture(...args: string[]) {
  const { out, io } = capturedIo();
  const code = await main(["posture", ...args], io);
  return { code, stdout: out.stdout };
}

describe("email-scout posture", () => {
  it("a good domain: OK, exit 0, perfdata, a line per check", async () => {
    const { code, stdout } = await posture(
      "good.test",
      "--resolver",
      `127.0.0.1:${peer.port}`,
      "--sender-ip",
      "192.0.2.10",
    );
    expect(code).toBe(0);
    expect(stdout.split("\n")).toEqual([
      "POSTURE OK - good.test: MX 10 mx.good.test; SPF 1/10 lookups, -all; sender 192.0.2.10 pass; DMARC p=reject, no aggregate reports; MTA-STS not published; TLS-RPT not published; PTR 192.0.2.10 -> mx.good.test; 1 address not listed on 5 lists; DANE not published (no TLSA at _25._tcp.mx.good.test) | spf_lookups=1;;10;0 spf_void_lookups=0;;2;0 dnsbl_listings=0;;;0",
      "OK mx ok: MX 10 mx.good.test",
      "OK spf ok: SPF 1/10 lookups, -all; sender 192.0.2.10 pass",
      "OK dmarc ok: DMARC p=reject, no aggregate reports",
      "OK mta-sts ok: MTA-STS not published",
      "OK tls-rpt ok: TLS-RPT not published",
      "OK reverse-dns ok: PTR 192.0.2.10 -> mx.good.test",
      "OK dnsbl ok: 1 address not listed on 5 lists",
      "OK dane ok: DANE not published (no TLSA at _25._tcp.mx.good.test)",
      "",
    ]);
  });

  it("a broken domain: CRITICAL, exit 2, findings worst first", async () => {
    const { code, stdout } = await posture("bad.test", "--resolver", `127.0.0.1:${peer.port}`);
    expect(code).toBe(2);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^POSTURE CRITICAL - bad\.test: mx mx-ip-literal: /);
    expect(lines.slice(1).map((line) => line.split(":")[0])).toEqual([
      "CRITICAL mx mx-ip-literal",
      "CRITICAL spf spf-pass-all",
      "WARNING dmarc dmarc-monitoring-only",
      "OK mta-sts ok",
      "OK tls-rpt ok",
      "OK reverse-dns ok",
      "OK dnsbl ok",
      "OK dane ok",
    ]);
  });

  it("--json prints the results and keeps the exit code", async () => {
    const { code, stdout } = await posture("bad.test", "--resolver", `127.0.0.1:${peer.port}`, "--json");
    expect(code).toBe(2);
    const results = JSON.parse(stdout) as { check: string; status: string }[];
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["mx", "CRITICAL"],
      ["spf", "CRITICAL"],
      ["dmarc", "WARNING"],
      ["mta-sts", "OK"],
      ["tls-rpt", "OK"],
      ["reverse-dns", "OK"],
      ["dnsbl", "OK"],
      ["dane", "OK"],
    ]);
  });

  it("DANE: TLSA records a sender must ignore, from a resolver that does not validate: WARNING lines", async () => {
    const { code, stdout } = await posture("pkix.test", "--resolver", `127.0.0.1:${peer.port}`);
    expect(code).toBe(1);
    const dane = stdout.split("\n").filter((line) => line.includes(" dane "));
    expect(dane).toEqual([
      `WARNING dane tlsa-unusable: _25._tcp.mx.pkix.test: no usable TLSA record (1 1 1 abababababababab…: usage 1 (PKIX-EE) is unusable for SMTP (RFC 7672 §3.1.3))`,
      `WARNING dane dane-not-validated: TLSA _25._tcp.mx.pkix.test has no AD bit: DANE counts only with DNSSEC; the zone is unsigned, or the resolver does not validate: use a validating resolver`,
      `WARNING dane dane-not-validated: the MX answer for pkix.test has no AD bit: senders use no TLSA of its MX hosts (RFC 7672 §2.2.1); the zone is unsigned, or the resolver does not validate: use a validating resolver`,
    ]);
  });

  it("a resolver that never answers: UNKNOWN, exit 3, naming the query", async () => {
    const silent = await startSilentDnsPeer();
    try {
      const { code, stdout } = await posture(
        "good.test",
        "--resolver",
        `127.0.0.1:${silent.port}`,
        "--timeout",
        "0.2",
        "--retries",
        "0",
      );
      expect(code).toBe(3);
      expect(stdout).toContain(
        `UNKNOWN mx dns-error: DNS MX good.test @127.0.0.1:${silent.port}: no reply to 1 UDP try of 200 ms each`,
      );
    } finally {
      await silent.close();
    }
  });

  it("blocklists, reverse DNS, TLS-RPT and the required MTA-STS: a line each, listings in perfdata", async () => {
    const { code, stdout } = await posture(
      "listed.test",
      "--resolver",
      `127.0.0.1:${peer.port}`,
      "--dnsbl",
      "zen.spamhaus.org=CRITICAL",
      "--dnsbl",
      "bl.example.test",
      "--outbound-ip",
      "198.51.100.7",
      "--mta-sts-required",
      "--banner",
      "mx.listed.test=mx.listed.test",
    );
    expect(code).toBe(2);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/ \| .*dnsbl_listings=2;;;0$/);
    expect(lines.slice(1).filter((line) => !line.startsWith("OK ") && !/ (spf|dmarc) /.test(line))).toEqual([
      "CRITICAL dnsbl dnsbl-listed: 192.0.2.20 (MX mx.listed.test) is listed on zen.spamhaus.org: 127.0.0.10 PBL policy listing (ISP-maintained: this range should not send mail directly)",
      "WARNING mta-sts mta-sts-missing: _mta-sts.listed.test has no v=STSv1 record",
      'WARNING tls-rpt tls-rpt-syntax: _smtp._tls.listed.test: rua=: "ftp://x" is neither mailto: nor https: (RFC 8460 §3)',
      "WARNING reverse-dns ptr-mismatch: 192.0.2.20 (MX mx.listed.test): PTR mail.isp.test -> 192.0.2.21; none resolves back to 192.0.2.20",
      "WARNING dnsbl dnsbl-listed: 198.51.100.7 (outbound) is listed on bl.example.test: 127.0.0.2 listed (code without a known meaning)",
    ]);
  });

  it("--no-dnsbl asks no blocklist", async () => {
    const before = peer.queries.length;
    const { code } = await posture("good.test", "--resolver", `127.0.0.1:${peer.port}`, "--no-dnsbl");
    expect(code).toBe(0);
    expect(peer.queries.slice(before).filter((query) => query.name.includes("spamhaus"))).toEqual([]);
  });

  it.each([
    [
      ["good.test", "--resolver", "dns.example"],
      '--resolver needs an IP address (and :PORT), got "dns.example"',
    ],
    [["good.test", "--resolver", "127.0.0.1:70000"], '--resolver port must be 1-65535, got "70000"'],
    [["good.test", "--sender-ip", "nope"], '--sender-ip needs an IP address, got "nope"'],
    [["not a domain"], '"not a domain" is not a domain name'],
    [[], "give exactly one domain"],
    [["good.test", "--bogus"], "Unknown option '--bogus'"],
    [
      ["good.test", "--dnsbl", "zen.spamhaus.org=FATAL"],
      '--dnsbl severity must be WARNING or CRITICAL, got "FATAL"',
    ],
    [["good.test", "--dnsbl", "not a zone"], '--dnsbl needs ZONE or ZONE=WARNING|CRITICAL, got "not a zone"'],
    [["good.test", "--dnsbl", "bl.example.test", "--no-dnsbl"], "give --dnsbl or --no-dnsbl, not both"],
    [["good.test", "--outbound-ip", "nat.example"], '--outbound-ip needs an IP address, got "nat.example"'],
    [
      ["good.test", "--banner", "mx.good.test"],
      '--banner needs MXHOST=NAME (two host names), got "mx.good.test"',
    ],
    [["good.test", "--https-timeout", "0"], '--https-timeout needs a positive number of seconds, got "0"'],
    [["good.test", "--ca-file", ""], "--ca-file needs a file path (it was empty)"],
  ])("usage error %j: UNKNOWN, exit 3", async (args, message) => {
    const { code, stdout } = await posture(...args);
    expect(code).toBe(3);
    expect(stdout).toContain(`POSTURE UNKNOWN - config-error: ${message}`);
  });

  it.each([
    ["192.0.2.53", { host: "192.0.2.53", port: 53 }],
    ["192.0.2.53:5353", { host: "192.0.2.53", port: 5353 }],
    ["[2001:db8::53]:5300", { host: "2001:db8::53", port: 5300 }],
    ["::1", { host: "::1", port: 53 }],
  ])("--resolver %s", (text, expected) => {
    expect(parseResolver(text)).toEqual(expected);
  });
});
