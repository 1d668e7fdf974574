import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import { webcrypto } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";

// The library is typed against the DOM Crypto; Node's webcrypto is the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 86_400_000;

export interface CertificateSpec {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A server certificate exactly like the demo one (same names, 90 days) but expired 10 days ago. */
export function expiredSpec(hostname: string, nowMs = Date.now()): CertificateSpec {
  return {
    commonName: hostname,
    dnsNames: [hostname, "localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
    notBefore: new Date(nowMs - 100 * DAY_MS),
    notAfter: new Date(nowMs - 10 * DAY_MS),
  };
}

/** A valid, trusted certificate that names another host only (no loopback addresses). */
export function wrongHostSpec(nowMs = Date.now()): CertificateSpec {
  return {
    commonName: "wrong-host.example.net",
    dnsNames: ["wrong-host.example.net"],
    ipAddresses: [],
    notBefore: new Date(nowMs - DAY_MS),
    notAfter: new Date(nowMs + 90 * DAY_MS),
  };
}

/**
 * Issues a server certificate signed by the demo CA (its key is read from disk, so the
 * certificate is trusted and only the fault under test is wrong), and writes the pair into
 * `dir` as server.pem / server.key. Returns their paths.
 */
export async function issueWithDemoCa(
  spec: CertificateSpec,
  ca: { certFile: string; keyFile: string },
  dir: string,
): Promise<{ certFile: string; keyFile: string }> {
  const caCert = new x509.X509Certificate(readFileSync(ca.certFile, "utf8"));
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    pemBody(readFileSync(ca.keyFile, "utf8")),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(16)).reduce(
      (hex, byte) => hex + byte.toString(16).padStart(2, "0"),
      "7f", // positive, non-zero first byte
    ),
    subject: `CN=${spec.commonName}`,
    issuer: caCert.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...spec.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...spec.ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certFile = join(dir, "server.pem");
  const keyFile = join(dir, "server.key");
  writeFileSync(certFile, cert.toString("pem"), { mode: 0o644 });
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  writeFileSync(keyFile, pem("PRIVATE KEY", der), { mode: 0o600 });
  return { certFile, keyFile };
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

function pemBody(text: string): Buffer {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(text);
  if (!match) throw new Error("the demo CA key is not a PKCS#8 PEM (BEGIN PRIVATE KEY)");
  return Buffer.from((match[1] as string).replace(/\s+/g, ""), "base64");
}

function pem(label: string, der: Buffer): string {
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
