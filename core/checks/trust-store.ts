import { existsSync, readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { FileBackedValue } from "../basics/file-backed-value.ts";
import { CheckConfigError } from "./errors.ts";

/** Where Debian, RHEL, Alpine and SUSE keep the system's CA bundle. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/cert.pem",
  "/etc/ssl/ca-bundle.pem",
];

const contexts = new Map<string, FileBackedValue<SecureContext>>();

/**
 * The TLS context that decides whether a chain is trusted: the system's CAs (Node's bundled
 * Mozilla list plus the system bundle, so a CA the operator installed system-wide counts),
 * or only the CAs in `caFile` when one is given. Built once per CA set and file version:
 * building it parses every CA certificate, far too slow to repeat for each check; but a CA
 * file replaced on disk (a pinned self-signed certificate renewed) is read again within
 * STAT_INTERVAL_MS, so `serve` follows it without a restart.
 */
export function trustContext(caFile?: string): SecureContext {
  const key = caFile ?? "<system>";
  let context = contexts.get(key);
  if (!context) {
    context = caFile ? new FileBackedValue([caFile], () => caContext(caFile)) : systemContext();
    contexts.set(key, context);
  }
  return context.current();
}

function caContext(path: string): SecureContext {
  const ca = readCaFile(path);
  try {
    return createSecureContext({ ca });
  } catch (error) {
    throw new CheckConfigError(`CA file ${path} cannot be used: ${(error as Error).message}`, {
      cause: error,
    });
  }
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

/**
 * Node's bundle, the system bundle, and the file NODE_EXTRA_CA_CERTS names (Node adds that one
 * to its own default store; `rootCertificates` leaves it out, so it is added here as Node does).
 */
function systemContext(): FileBackedValue<SecureContext> {
  const bundle = SYSTEM_BUNDLES.find((path) => existsSync(path));
  const extra = process.env.NODE_EXTRA_CA_CERTS || undefined;
  const files = [bundle, extra].filter((path): path is string => path !== undefined);
  const build = () =>
    createSecureContext({
      ca: [
        ...rootCertificates,
        ...(bundle ? [readFileSync(bundle, "utf8")] : []),
        ...(extra ? [readExtraCaFile(extra)] : []),
      ],
    });
  if (files.length === 0) {
    const context = build();
    return new FileBackedValue([], () => context);
  }
  return new FileBackedValue(files, build);
}

function readExtraCaFile(path: string): string {
  try {
    return readCaFile(path);
  } catch (error) {
    throw new CheckConfigError(
      `NODE_EXTRA_CA_CERTS: ${(error as Error).message}; fix the file or unset the variable`,
      { cause: error },
    );
  }
}
