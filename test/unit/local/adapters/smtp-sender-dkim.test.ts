import { generateKeyPairSync } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProbe } from "../../../../core/roundtrip/probe-message.ts";
import { newProbeKey } from "../../../../core/wire/probe-key.ts";
import { newProbeId } from "../../../../core/wire/probe-token.ts";
import { DkimKeyError, readDkimSigning } from "../../../../local/adapters/dkim-key.ts";
import { SmtpSender } from "../../../../local/adapters/smtp-sender.ts";
import { verifyDkim } from "../../../support/dkim-verify.ts";

/*
 * A probe signed by the SMTP sender (outbound.dkim) and received by a real SMTP peer is checked
 * by test/support/dkim-verify.ts, a verifier written from RFC 6376 rather than from the signer.
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

async function sendSignedProbe(privateKeyFile: string): Promise<Buffer> {
  const probe = await buildProbe({
    probeId: newProbeId(),
    targetId: "mx1",
    to: `probe@${MTA}`,
    from: `scout@${SIGNING_DOMAIN}`,
    inboundDomain: SIGNING_DOMAIN,
    sentAtMs: Date.now(),
    key: { id: "k1", key: newProbeKey() },
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
  it.each([2048, 1024])("signs a probe with a %i-bit RSA key; the signature verifies", async (bits) => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const delivered = await sendSignedProbe(await keyFile(`rsa-${bits}.pem`, pem));
    const check = verifyDkim(delivered, publicKey);
    expect(check).toMatchObject({ result: "pass", domain: SIGNING_DOMAIN, selector: SELECTOR });
    // DMARC needs From signed; the probe's Subject, Date, Message-ID and To are signed too.
    expect(check.result === "pass" && check.signed).toEqual(
      expect.arrayContaining(["from", "subject", "date", "message-id", "to"]),
    );
    // The verifier can fail: a changed signed field, or another key.
    const tampered = Buffer.from(
      delivered.toString("latin1").replace(/^Subject: .*$/m, "Subject: changed"),
      "latin1",
    );
    expect(verifyDkim(tampered, publicKey)).toEqual({ result: "fail", why: "signature does not verify" });
    const other = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
    expect(verifyDkim(delivered, other).result).toBe("fail");
  });

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
