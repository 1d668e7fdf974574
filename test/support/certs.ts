import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
// The library is typed against the DOM Crypto; Node's webcrypto is the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 86_400_000;

export interface TestCert {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly caPem: string;
  /** Valid for 90 days, names localhost, 127.0.0.1 and ::1, signed by the CA. */
  readonly valid: TestCert;
  /** Expired ten days ago, otherwise like `valid`. */
  readonly expired: TestCert;
  /** Valid, but expires in `expiringDays` days. */
  readonly expiring: TestCert;
  /** Self-signed, names localhost. */
  readonly selfSigned: TestCert;
  /** Signed by the CA, but names only wrong.example.net. */
  readonly wrongHost: TestCert;
  /** A certificate signed by the CA for other names, valid 90 days from yesterday. */
  issue(names: SanEntry[]): Promise<TestCert>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

export type SanEntry = { type: "dns" | "ip"; value: string };
export const LOCAL_NAMES: SanEntry[] = [
  { type: "dns", value: "localhost" },
  { type: "ip", value: "127.0.0.1" },
  { type: "ip", value: "::1" },
];

let serial = 1;

/** A private CA and server certificates for every TLS case the checks must tell apart. */
export async function makeTestPki(expiringDays = 5): Promise<TestPki> {
  const now = Date.now();
  const caKeys = await newKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    name: "CN=Email Scout Test CA",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });

  async function leaf(options: {
    cn: string;
    names: SanEntry[];
    from: number;
    to: number;
    selfSigned?: boolean;
  }) {
    const keys = await newKeys();
    const extensions = [
      new x509.SubjectAlternativeNameExtension(options.names),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ];
    const common = {
      serialNumber: (serial++).toString(16).padStart(2, "0"),
      notBefore: new Date(options.from),
      notAfter: new Date(options.to),
      signingAlgorithm: ALGORITHM,
      extensions,
    };
    const cert = options.selfSigned
      ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${options.cn}`, keys })
      : await x509.X509CertificateGenerator.create({
          ...common,
          subject: `CN=${options.cn}`,
          issuer: ca.subject,
          publicKey: keys.publicKey,
          signingKey: caKeys.privateKey,
        });
    return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
  }

  return {
    issue: (names) =>
      leaf({ cn: names[0]?.value ?? "localhost", names, from: now - DAY_MS, to: now + 90 * DAY_MS }),
    caPem: ca.toString("pem"),
    valid: await leaf({ cn: "localhost", names: LOCAL_NAMES, from: now - DAY_MS, to: now + 90 * DAY_MS }),
    expired: await leaf({
      cn: "localhost",
      names: LOCAL_NAMES,
      from: now - 100 * DAY_MS,
      to: now - 10 * DAY_MS,
    }),
    expiring: await leaf({
      cn: "localhost",
      names: LOCAL_NAMES,
      from: now - DAY_MS,
      to: now + expiringDays * DAY_MS + 3_600_000,
    }),
    selfSigned: await leaf({
      cn: "localhost",
      names: LOCAL_NAMES,
      from: now - DAY_MS,
      to: now + 90 * DAY_MS,
      selfSigned: true,
    }),
    wrongHost: await leaf({
      cn: "wrong.example.net",
      names: [{ type: "dns", value: "wrong.example.net" }],
      from: now - DAY_MS,
      to: now + 90 * DAY_MS,
    }),
  };
}

/** A self-signed certificate with any subject and SANs (none when `names` is empty), valid `validDays` (90). */
export async function makeSelfSigned(subject: string, names: SanEntry[], validDays = 90): Promise<TestCert> {
  const now = Date.now();
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    name: subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}
