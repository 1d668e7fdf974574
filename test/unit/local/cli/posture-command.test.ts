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
    ["good.test", "TXT", "v=spf1 mx -all"],
    ["_dmarc.good.test", "TXT", "v=DMARC1; p=reject"],
    ["bad.test", "MX", "10 192.0.2.1"],
    ["bad.test", "TXT", "v=spf1 +all"],
    ["_dmarc.bad.test", "TXT", "v=DMARC1; p=none"],
    ["pkix.test", "MX", "10 mx.pkix.test"],
    ["mx.pkix.test", "A", "192.0.2.20"],
    ["_25._tcp.mx.pkix.test", "TLSA", `1 1 1 ${"ab".repeat(32)}`],
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
      "POSTURE OK - good.test: MX 10 mx.good.test; SPF 1/10 lookups, -all; sender 192.0.2.10 pass; DMARC p=reject, no aggregate reports; DANE not published (no TLSA at _25._tcp.mx.good.test) | spf_lookups=1;;10;0 spf_void_lookups=0;;2;0",
      "OK mx ok: MX 10 mx.good.test",
      "OK spf ok: SPF 1/10 lookups, -all; sender 192.0.2.10 pass",
      "OK dmarc ok: DMARC p=reject, no aggregate reports",
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
