import { existsSync, readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { CheckConfigError } from "./errors.ts";

/** Where Debian, RHEL, Alpine and SUSE keep the system's CA bundle. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/cert.pem",
  "/etc/ssl/ca-bundle.pem",
];

const contexts = new Map<string, SecureContext>();

/**
 * The TLS context that decides whether a chain is trusted: the system's CAs (Node's bundled
 * Mozilla list plus the system bundle, so a CA the operator installed system-wide counts),
 * or only the CAs in `caFile` when one is given. Built once per CA set: building it parses
 * every CA certificate, far too slow to repeat for each check.
 */
export function trustContext(caFile?: string): SecureContext {
  const key = caFile ?? "<system>";
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({ ca: caFile ? readCaFile(caFile) : systemCas() });
    contexts.set(key, context);
  }
  return context;
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CheckConfigError(
      `cannot read CA file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new CheckConfigError(`CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return text;
}

function systemCas(): string[] {
  const bundle = SYSTEM_BUNDLES.find((path) => existsSync(path));
  return bundle ? [...rootCertificates, readFileSync(bundle, "utf8")] : [...rootCertificates];
}
