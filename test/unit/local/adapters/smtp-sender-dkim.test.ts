import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { evaluateDmarc } from "mailauth/lib/dmarc/index.js";
import { spf } from "mailauth/lib/spf/index.js";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProbe } from "../../../../core/roundtrip/probe-message.ts";
import { receiverVerdicts } from "../../../../core/verdicts/receiver-verdicts.ts";
import { newProbeKey } from "../../../../core/wire/probe-key.ts";
import { newProbeId } from "../../../../core/wire/probe-token.ts";
import { DkimKeyError, readDkimSigning } from "../../../../local/adapters/dkim-key.ts";
import { SmtpSender } from "../../../../local/adapters/smtp-sender.ts";

/*
 * A probe signed by the SMTP sender (outbound.dkim) is verified by a real verifier, mailauth
 * (its DKIM, SPF and DMARC modules: the package's top module also loads a BIMI fetcher that
 * needs a newer Node), whose DNS answers come from the table below. Its results become the
 * Authentication-Results field a receiver would stamp, read back the way the correlator reads
 * a delivered probe's header block.
 */

const SIGNING_DOMAIN = "scout.example.net";
const SELECTOR = "scout2026";
const MTA = "mx1.example.com";

let dir: string;
let server: SMTPServer;
let port: number;
const received: Buffer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scout-dkim-"));
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, pem: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, pem);
  await chmod(path, mode);
  return path;
}

/** The DNS a receiver would ask: the DKIM key, the From domain's DMARC policy, the sender's SPF. */
function resolverFor(publicKey: KeyObject) {
  const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const records: Record<string, string[][]> = {
    [`TXT ${SELECTOR}._domainkey.${SIGNING_DOMAIN}`]: [[`v=DKIM1; k=rsa; p=${p}`]],
    [`TXT _dmarc.${SIGNING_DOMAIN}`]: [["v=DMARC1; p=reject"]],
    [`TXT ${SIGNING_DOMAIN}`]: [["v=spf1 ip4:127.0.0.1 -all"]],
  };
  return async (name: string, type: string) => {
    const answer = records[`${type} ${name}`];
    if (answer !== undefined) return answer;
    throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
  };
}

async function sendSignedProbe(privateKeyFile: string): Promise<Buffer> {
  const probe = await buildProbe({
    probeId: newProbeId(),
    targetId: "mx1",
    to: `probe@${MTA}`,
    from: `scout@${SIGNING_DOMAIN}`,
    inboundDomain: SIGNING_DOMAIN,
    sentAtMs: Date.now(),
    key: newProbeKey(),
  });
  const sender = new SmtpSender({
    relay: { host: "127.0.0.1", port },
    tls: "none",
    dkim: readDkimSigning({ domain: SIGNING_DOMAIN, selector: SELECTOR, privateKeyFile }),
  });
  const before = received.length;
  await sender.send({ envelope: probe.envelope, raw: probe.raw });
  const got = received[before];
  if (got === undefined) throw new Error("the peer received nothing");
  return got;
}

describe("SmtpSender with outbound.dkim", () => {
  it.each([2048, 1024])(
    "signs a probe with a %i-bit RSA key so a real verifier passes DKIM and DMARC",
    async (bits) => {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const delivered = await sendSignedProbe(await keyFile(`rsa-${bits}.pem`, pem));
      expect(delivered.toString("latin1")).toMatch(
        new RegExp(`^DKIM-Signature: v=1; a=rsa-sha256; .*d=${SIGNING_DOMAIN};.*s=${SELECTOR};`, "s"),
      );

      const resolver = resolverFor(publicKey);
      const dkim = await dkimVerify(delivered, { resolver });
      expect(dkim.results.map((entry) => entry.status.result)).toEqual(["pass"]);
      const spfResult = await spf({
        ip: "127.0.0.1",
        helo: "scout.example.net",
        sender: `bounces@${SIGNING_DOMAIN}`,
        mta: MTA,
        resolver,
      });
      const { response: dmarc } = await evaluateDmarc({
        headerFrom: dkim.headerFrom,
        spfDomains: spfResult.status.result === "pass" ? [spfResult.domain] : [],
        dkimDomains: dkim.results
          .filter((entry) => entry.status.result === "pass")
          .map((entry) => ({ domain: entry.signingDomain })),
        resolver,
      } as Parameters<typeof evaluateDmarc>[0]);
      if (dmarc === false) throw new Error("mailauth evaluated no DMARC");
      // What mailauth's authenticate() writes: the authserv-id, then each result's info.
      const infos = [...dkim.results.map((entry) => entry.info), spfResult.info, dmarc.info];
      const result = { headers: `Authentication-Results: ${MTA};\r\n ${infos.join(";\r\n ")}\r\n` };
      // The verdicts as the correlator reads them from the delivered probe's header block.
      const stamped = `${result.headers}${delivered.toString("latin1")}`;
      const headerLines = stamped.slice(0, stamped.indexOf("\r\n\r\n")).split("\r\n");
      const verdicts = receiverVerdicts(headerLines, { trustedAuthservIds: [MTA] });
      expect(verdicts).toMatchObject({
        authservId: MTA,
        dkim: { result: "pass", domain: SIGNING_DOMAIN },
        dmarc: { result: "pass", domain: SIGNING_DOMAIN },
        spf: { result: "pass", domain: SIGNING_DOMAIN },
      });
    },
  );

  it("refuses a key file others may read, one without a key, and keys it cannot sign with", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const open = await keyFile("open.pem", pem, 0o644);
    const dkim = { domain: SIGNING_DOMAIN, selector: SELECTOR };
    expect(() => readDkimSigning({ ...dkim, privateKeyFile: open })).toThrow(
      /outbound\.dkim\.privateKeyFile: secret file .*open\.pem/,
    );
    const notKey = await keyFile("not-a-key.pem", "hello\n");
    expect(() => readDkimSigning({ ...dkim, privateKeyFile: notKey })).toThrow(
      new DkimKeyError(`outbound.dkim.privateKeyFile: secret file ${notKey} holds no PEM private key`),
    );
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const ecFile = await keyFile("ec.pem", ec.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => readDkimSigning({ ...dkim, privateKeyFile: ecFile })).toThrow(
      /holds a ec key; probes are signed with RSA \(rsa-sha256\)/,
    );
    const ed25519 = generateKeyPairSync("ed25519").privateKey;
    const edFile = await keyFile("ed.pem", ed25519.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => readDkimSigning({ ...dkim, privateKeyFile: edFile })).toThrow(/holds a ed25519 key/);
    const small = generateKeyPairSync("rsa", { modulusLength: 768 }).privateKey;
    const smallFile = await keyFile("small.pem", small.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => readDkimSigning({ ...dkim, privateKeyFile: smallFile })).toThrow(
      /holds a 768-bit RSA key; use 1024 bits or more \(2048 recommended\)/,
    );
  });

  it("never shows the private key when the signing settings are printed", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const signing = readDkimSigning({
      domain: SIGNING_DOMAIN,
      selector: SELECTOR,
      privateKeyFile: await keyFile("quiet.pem", pem),
    });
    expect(JSON.stringify(signing)).not.toContain("PRIVATE KEY");
  });
});
