import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { checkEndpoint } from "../../../../core/checks/run-check.ts";
import { createDnsResolver, type DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkPosture } from "../../../../core/posture/check-posture.ts";
import { type ChainSource, smtpStartTlsChain } from "../../../../core/posture/dane-chain.ts";
import { checkDane, type DaneFacts } from "../../../../core/posture/dane-check.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { makeTestPki, type TestCert, type TestPki } from "../../../support/certs.ts";
import { type DnsPeer, startSilentDnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";
import { closedPort } from "../../../support/line-server.ts";
import { type SmtpPeer, startSmtpPeer } from "../../../support/smtp-peer.ts";

/**
 * DANE against an in-process zone (the AD bit set as a validating resolver would, except
 * under unsigned.dane.test) and real STARTTLS servers on 127.0.0.1 serving the test CA's
 * certificates, the CA sent in the chain as a DANE-TA server must send it (RFC 7671 §5.2.2).
 */
const der = (pem: string) => new X509Certificate(pem).raw;
const spki = (pem: string) => new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
const hash = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest("hex");
/** The leaf's SHA-256 fingerprint as X509Certificate prints it, AB:CD:... : the same digest by another road. */
const certSha256 = (pem: string) => new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase();
const withCa = (leaf: TestCert, pki: TestPki) => ({
  key: leaf.key,
  cert: `${leaf.cert.trim()}\n${pki.caPem}`,
});

let pki: TestPki;
let zone: DnsPeer & { resolver: DnsResolver };
let smtp: SmtpPeer;
/** The SMTP check's own STARTTLS chain, at the test server's port in place of 25. */
let chainAt: (port: number) => ChainSource;

const mxTo = (label: string, host = `mx.${label}.dane.test`): ZoneRecord[] => [
  [`${label}.dane.test`, "MX", `10 ${host}`],
  [host, "A", "127.0.0.1"],
];

beforeAll(async () => {
  pki = await makeTestPki();
  const leaf = pki.valid.cert;
  const records: ZoneRecord[] = [
    ...mxTo("ee311"),
    ["_25._tcp.mx.ee311.dane.test", "TLSA", `3 1 1 ${hash("sha256", spki(leaf))}`],
    ...mxTo("ee301"),
    ["_25._tcp.mx.ee301.dane.test", "TLSA", `3 0 1 ${certSha256(leaf)}`],
    ...mxTo("ee312"),
    ["_25._tcp.mx.ee312.dane.test", "TLSA", `3 1 2 ${hash("sha512", spki(leaf))}`],
    ["_25._tcp.mx.ee312.dane.test", "TLSA", `1 1 1 ${hash("sha256", spki(leaf))}`],
    ...mxTo("ee300"),
    ["_25._tcp.mx.ee300.dane.test", "TLSA", `3 0 0 ${der(leaf).toString("hex")}`],
    // DANE-TA checks the leaf's names: the test certificates name localhost.
    ...mxTo("ta211", "localhost"),
    ["_25._tcp.localhost", "TLSA", `2 1 1 ${hash("sha256", spki(pki.caPem))}`],
    ...mxTo("expired"),
    ["_25._tcp.mx.expired.dane.test", "TLSA", `3 1 1 ${hash("sha256", spki(pki.expired.cert))}`],
    ...mxTo("pkix"),
    ["_25._tcp.mx.pkix.dane.test", "TLSA", `1 1 1 ${hash("sha256", spki(leaf))}`],
    ["_25._tcp.mx.pkix.dane.test", "TLSA", `0 0 1 ${certSha256(pki.caPem)}`],
    ...mxTo("plain"),
    ...mxTo("unsigned"),
    ["_25._tcp.mx.unsigned.dane.test", "TLSA", `3 1 1 ${hash("sha256", spki(leaf))}`],
    ["nullmx.dane.test", "MX", "0 ."],
  ];
  zone = await startZonePeer(records, { authenticated: (name) => !name.includes("unsigned") });
  smtp = await startSmtpPeer({ identity: withCa(pki.valid, pki) });
  chainAt = (port) => (host) => smtpStartTlsChain(zone.resolver)(host, port);
});
afterAll(async () => {
  await zone?.close();
  await smtp?.close();
});

const summary = (result: PostureResult) => [result.status, result.reason];
const dane = (label: string, chainOf: ChainSource = chainAt(smtp.port)) =>
  checkDane(zone.resolver, `${label}.dane.test`, { chainOf }) as Promise<PostureResult<DaneFacts>>;

describe("DANE posture (RFC 7672)", () => {
  it.each([
    ["3 1 1: DANE-EE, SHA-256 of the key", "ee311", "3 1 1", 0],
    ["3 0 1: DANE-EE, SHA-256 of the certificate", "ee301", "3 0 1", 0],
    ["3 1 2: DANE-EE, SHA-512 of the key (a PKIX-EE record beside it is ignored)", "ee312", "3 1 2", 0],
    ["3 0 0: DANE-EE, the whole certificate", "ee300", "3 0 0", 0],
    ["2 1 1: DANE-TA, the test CA's key; the chain validates to it and names the host", "ta211", "2 1 1", 1],
  ])("%s: OK", async (_name, label, record, depth) => {
    const result = await dane(label);
    expect(summary(result)).toEqual(["OK", "ok"]);
    expect(result.facts.mxAuthenticated).toBe(true);
    expect(result.facts.hosts[0]).toMatchObject({ tlsa: "published", authenticated: true, match: { depth } });
    expect(result.facts.hosts[0]?.match?.record).toMatch(new RegExp(`^${record} `));
    expect(result.message).toMatch(/, DNSSEC-validated$/);
    expect(result.facts.hosts[0]?.chain?.map((cert) => cert.subject)).toEqual([
      "CN=localhost",
      "CN=Email Scout Test CA",
    ]);
  });

  it("DANE-EE ignores validity dates: an expired leaf whose key is published is OK (RFC 7671 §5.1)", async () => {
    const server = await startSmtpPeer({ identity: withCa(pki.expired, pki) });
    try {
      expect(summary(await dane("expired", chainAt(server.port)))).toEqual(["OK", "ok"]);
    } finally {
      await server.close();
    }
  });

  it("a renewal with a new key and the old TLSA record: CRITICAL tlsa-mismatch naming host, records, digests", async () => {
    const server = await startSmtpPeer({ identity: withCa(pki.valid, pki) });
    try {
      expect(summary(await dane("ee311", chainAt(server.port)))).toEqual(["OK", "ok"]);
      server.setIdentity(withCa(pki.expiring, pki));
      const result = await dane("ee311", chainAt(server.port));
      expect(summary(result)).toEqual(["CRITICAL", "tlsa-mismatch"]);
      const old = hash("sha256", spki(pki.valid.cert));
      const renewed = hash("sha256", spki(pki.expiring.cert));
      expect(result.message).toBe(
        `mx.ee311.dane.test:25: no TLSA record at _25._tcp.mx.ee311.dane.test matches the certificate chain: ` +
          `records 3 1 1 ${old.slice(0, 16)}…; chain [0] CN=localhost: 1 1 ${renewed} ` +
          `[1] CN=Email Scout Test CA: 1 1 ${hash("sha256", spki(pki.caPem))}`,
      );
    } finally {
      await server.close();
    }
  });

  it("DANE-TA with a leaf that does not name the MX host: CRITICAL, and why the anchor did not count", async () => {
    const server = await startSmtpPeer({ identity: withCa(pki.wrongHost, pki) });
    try {
      const result = await dane("ta211", chainAt(server.port));
      expect(summary(result)).toEqual(["CRITICAL", "tlsa-mismatch"]);
      expect(result.message).toContain(
        "certificate 1 matches 2 1 1, but the leaf certificate does not name localhost",
      );
    } finally {
      await server.close();
    }
  });

  it("only PKIX-EE/PKIX-TA records: WARNING tlsa-unusable, not a match (RFC 7672 §3.1.3)", async () => {
    const result = await dane("pkix");
    expect(summary(result)).toEqual(["WARNING", "tlsa-unusable"]);
    expect(result.message).toMatch(
      /^_25\._tcp\.mx\.pkix\.dane\.test: no usable TLSA record \(1 1 1 [0-9a-f]{16}…: usage 1 \(PKIX-EE\) is unusable for SMTP \(RFC 7672 §3\.1\.3\); 0 0 1 [0-9a-f]{16}…: usage 0 \(PKIX-TA\)/,
    );
    expect(result.facts.hosts[0]?.chain).toBeUndefined();
  });

  it("no TLSA: OK, DANE not published, and no connection to the MX host", async () => {
    const asked: string[] = [];
    const result = await dane("plain", async (host) => {
      asked.push(host);
      return [];
    });
    expect([...summary(result), result.message]).toEqual([
      "OK",
      "ok",
      "DANE not published (no TLSA at _25._tcp.mx.plain.dane.test)",
    ]);
    expect(asked).toEqual([]);
  });

  it("a null MX: nothing to check", async () => {
    const result = await dane("nullmx");
    expect([...summary(result), result.message]).toEqual([
      "OK",
      "ok",
      "DANE not checked: nullmx.dane.test has a null MX",
    ]);
  });

  it("TLSA and MX without the AD bit: WARNING dane-not-validated with the fix, never a silent OK", async () => {
    const result = await dane("unsigned");
    expect(summary(result)).toEqual(["WARNING", "dane-not-validated"]);
    expect(result.findings.map((found) => found.message)).toEqual([
      "TLSA _25._tcp.mx.unsigned.dane.test has no AD bit: DANE counts only with DNSSEC; the zone is unsigned, or the resolver does not validate: use a validating resolver",
      "the MX answer for unsigned.dane.test has no AD bit: senders use no TLSA of its MX hosts (RFC 7672 §2.2.1); the zone is unsigned, or the resolver does not validate: use a validating resolver",
    ]);
    expect(result.facts.hosts[0]).toMatchObject({ authenticated: false, match: { depth: 0 } });
  });

  it("a TLSA query that times out: UNKNOWN dns-error naming the query", async () => {
    const silent = await startSilentDnsPeer();
    try {
      const timingOut = createDnsResolver({
        server: { host: "127.0.0.1", port: silent.port },
        timeoutMs: 200,
        retries: 0,
      });
      // The zone answers everything but TLSA; TLSA goes to a server that never replies.
      const resolver: DnsResolver = {
        server: zone.resolver.server,
        query: (name, type) => (type === "TLSA" ? timingOut : zone.resolver).query(name, type),
      };
      const result = await checkDane(resolver, "ee311.dane.test", { chainOf: chainAt(smtp.port) });
      expect([...summary(result), result.message]).toEqual([
        "UNKNOWN",
        "dns-error",
        `DNS TLSA _25._tcp.mx.ee311.dane.test @127.0.0.1:${silent.port}: no reply to 1 UDP try of 200 ms each`,
      ]);
    } finally {
      await silent.close();
    }
  });

  it("TLSA published but nothing listens on the MX host's port: UNKNOWN dane-chain-unavailable", async () => {
    const result = await dane("ee311", chainAt(await closedPort()));
    expect(summary(result)).toEqual(["UNKNOWN", "dane-chain-unavailable"]);
    expect(result.message).toMatch(
      /^_25\._tcp\.mx\.ee311\.dane\.test: no chain to compare: mx\.ee311\.dane\.test:\d+ \(127\.0\.0\.1\) gave no certificate chain: refused: /,
    );
  });

  it("checkPosture runs DANE last, with the chain source given", async () => {
    const results = await checkPosture(zone.resolver, "ee311.dane.test", {
      chainOf: chainAt(smtp.port),
      dnsbls: [],
    });
    const checks = results.map((result) => result.check);
    expect(checks).toEqual(["mx", "spf", "dmarc", "mta-sts", "tls-rpt", "reverse-dns", "dnsbl", "dane"]);
    expect(summary(results[checks.indexOf("dane")] as PostureResult)).toEqual(["OK", "ok"]);
  });
});

describe("the SMTP check hands over the chain it saw", () => {
  it("leaf first, then the CA, as DER; the result is the same as without the callback", async () => {
    const endpoint = parseEndpointUrl(`smtp://127.0.0.1:${smtp.port}`);
    let chain: Buffer[] = [];
    const seen = await checkEndpoint(endpoint, { onPeerChain: (given) => (chain = given) });
    const plain = await checkEndpoint(endpoint);
    expect(chain.map((cert) => cert.toString("hex"))).toEqual([
      der(pki.valid.cert).toString("hex"),
      der(pki.caPem).toString("hex"),
    ]);
    expect([seen.status, seen.reason, seen.tls?.certificate?.subject]).toEqual([
      plain.status,
      plain.reason,
      plain.tls?.certificate?.subject,
    ]);
  });
});
