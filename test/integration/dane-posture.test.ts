import { createHash, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPosture } from "../../core/posture/check-posture.ts";
import { type ChainSource, smtpStartTlsChain } from "../../core/posture/dane-chain.ts";
import { checkDane, type DaneFacts } from "../../core/posture/dane-check.ts";
import type { PostureResult } from "../../core/posture/posture-result.ts";
import { makeTestPki, type TestPki } from "../support/certs.ts";
import { LDNS_KEYGEN, LDNS_SIGNZONE, signZone } from "../support/dnssec-zone.ts";
import { NSD_BINARY, type NsdServer, startNsd } from "../support/nsd-server.ts";
import { type SmtpPeer, startSmtpPeer } from "../support/smtp-peer.ts";
import { startUnbound, UNBOUND_BINARY, type UnboundServer } from "../support/unbound-server.ts";

/**
 * DANE through a real DNSSEC chain: dane.test signed with ldns-signzone and served by NSD,
 * plain.test served unsigned beside it, and unbound as the validating resolver with
 * dane.test's DS as its trust anchor, everything on loopback. The MX hosts' certificate
 * chains come from the SMTP check's own STARTTLS dialogue with an in-process server on a
 * free port (port 25 here belongs to the demo mail host), the one thing injected.
 */
const BINARIES = [NSD_BINARY, UNBOUND_BINARY, LDNS_KEYGEN, LDNS_SIGNZONE];
const missing = BINARIES.filter((binary) => !existsSync(binary));
const FIX = "run scripts/ensure-dns-server.sh (apt-get install nsd unbound ldnsutils)";
if (missing.length > 0 && process.env.CI) throw new Error(`CI: ${missing.join(", ")} missing: ${FIX}`);
const SKIPPED = `DANE tier skipped: ${missing.join(", ")} missing; ${FIX}`;
if (missing.length > 0) console.warn(SKIPPED);

const spkiSha256 = (pem: string) =>
  createHash("sha256")
    .update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");

let pki: TestPki;
let dir: string;
let nsd: NsdServer;
let unbound: UnboundServer;
let smtp: SmtpPeer;
/** The SMTP check's STARTTLS chain, at the in-process server's port in place of 25. */
let chainOf: ChainSource;

beforeAll(async () => {
  if (missing.length > 0) return;
  pki = await makeTestPki();
  const published = spkiSha256(pki.valid.cert);
  const otherKey = spkiSha256(pki.expiring.cert);
  dir = await mkdtemp(join(tmpdir(), "email-scout-dane-"));
  const signed = await signZone(dir, {
    origin: "dane.test",
    records: [
      "good IN MX 10 mx.good",
      "mx.good IN A 127.0.0.1",
      `_25._tcp.mx.good IN TLSA 3 1 1 ${published}`,
      "renewed IN MX 10 mx.renewed",
      "mx.renewed IN A 127.0.0.1",
      `_25._tcp.mx.renewed IN TLSA 3 1 1 ${otherKey}`,
      "bogus IN MX 10 mx.bogus",
      "mx.bogus IN A 127.0.0.1",
      `_25._tcp.mx.bogus IN TLSA 3 1 1 ${published}`,
    ].join("\n"),
  });
  // Changed after signing: the RRSIG no longer covers the data, so the answer is bogus.
  const tampered = signed.text.replace(
    /^(_25\._tcp\.mx\.bogus\.dane\.test\.\s+\d+\s+IN\s+TLSA\s+3 1 1 )[0-9a-f]+$/im,
    `$1${otherKey}`,
  );
  expect(tampered).not.toBe(signed.text);
  nsd = await startNsd([
    { origin: "dane.test", records: "", text: tampered },
    {
      origin: "plain.test",
      records: ["@ IN MX 10 mx", "mx IN A 127.0.0.1", `_25._tcp.mx IN TLSA 3 1 1 ${published}`].join("\n"),
    },
  ]);
  unbound = await startUnbound({
    stubs: [
      { zone: "dane.test", port: nsd.port },
      { zone: "plain.test", port: nsd.port },
    ],
    trustAnchorFiles: [signed.dsFile],
  });
  smtp = await startSmtpPeer({
    identity: { key: pki.valid.key, cert: `${pki.valid.cert.trim()}\n${pki.caPem}` },
  });
  chainOf = (host) => smtpStartTlsChain(unbound.resolver)(host, smtp.port);
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await unbound?.stop();
  await nsd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const summary = (result: PostureResult) => [result.status, result.reason];
const dane = (domain: string) =>
  checkDane(unbound.resolver, domain, { chainOf }) as Promise<PostureResult<DaneFacts>>;

describe.skipIf(missing.length > 0)(
  missing.length > 0 ? SKIPPED : "DANE through NSD and a validating unbound",
  () => {
    it("unbound sets the AD bit on the signed zone's answers; NSD, authoritative, does not", async () => {
      const [validated, authoritative, unsigned] = await Promise.all([
        unbound.resolver.query("_25._tcp.mx.good.dane.test", "TLSA"),
        nsd.resolver.query("_25._tcp.mx.good.dane.test", "TLSA"),
        unbound.resolver.query("_25._tcp.mx.plain.test", "TLSA"),
      ]);
      expect([validated.rcode, validated.records.length, validated.authenticated]).toEqual([
        "NOERROR",
        1,
        true,
      ]);
      expect(authoritative.authenticated).toBe(false);
      expect([unsigned.records.length, unsigned.authenticated]).toEqual([1, false]);
    });

    it("a TLSA record matching the server's key, validated: OK", async () => {
      const result = await dane("good.dane.test");
      expect(summary(result)).toEqual(["OK", "ok"]);
      expect(result.facts.mxAuthenticated).toBe(true);
      expect(result.facts.hosts).toMatchObject([
        { host: "mx.good.dane.test", tlsa: "published", authenticated: true, match: { depth: 0 } },
      ]);
      expect(result.message).toBe(
        `DANE mx.good.dane.test 3 1 1 ${spkiSha256(pki.valid.cert).slice(0, 16)}… on certificate 0, DNSSEC-validated`,
      );
    });

    it("a TLSA record for another key (a renewal not published): CRITICAL tlsa-mismatch", async () => {
      const result = await dane("renewed.dane.test");
      expect(summary(result)).toEqual(["CRITICAL", "tlsa-mismatch"]);
      expect(result.message).toContain(`chain [0] CN=localhost: 1 1 ${spkiSha256(pki.valid.cert)}`);
    });

    it("a TLSA record whose signature does not verify: unbound answers SERVFAIL, UNKNOWN naming the query", async () => {
      const result = await dane("bogus.dane.test");
      expect([...summary(result), result.message]).toEqual([
        "UNKNOWN",
        "dns-error",
        `DNS TLSA _25._tcp.mx.bogus.dane.test @127.0.0.1:${unbound.port}: SERVFAIL (the server could not answer; often a DNSSEC failure)`,
      ]);
      expect(unbound.output()).toMatch(/validation failure <_25\._tcp\.mx\.bogus\.dane\.test\. TLSA IN>/);
    });

    it("TLSA in a zone nobody signed: WARNING dane-not-validated, though the record matches", async () => {
      const result = await dane("plain.test");
      expect(summary(result)).toEqual(["WARNING", "dane-not-validated"]);
      expect(result.facts.hosts).toMatchObject([{ authenticated: false, match: { depth: 0 } }]);
    });

    it("checkPosture through unbound: the dane result beside MX, SPF and DMARC", async () => {
      const results = await checkPosture(unbound.resolver, "good.dane.test", { chainOf });
      expect(results.map((result) => [result.check, result.status])).toContainEqual(["dane", "OK"]);
    });
  },
);
