import { X509Certificate } from "node:crypto";
import { checkServerIdentity, type TLSSocket } from "node:tls";

const DAY_MS = 86_400_000;

export interface CertificateFacts {
  readonly subject: string;
  readonly subjectAltNames: string[];
  readonly issuer: string;
  readonly serialNumber: string;
  readonly fingerprintSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days until notAfter, rounded down (negative once expired). */
  readonly daysLeft: number;
}

export interface TlsFacts {
  readonly protocol: string;
  readonly cipher: string;
  readonly certificate?: CertificateFacts;
  /** The name the certificate was checked against (SNI name or host). */
  readonly checkedName: string;
  readonly hostnameMatch: boolean;
  readonly hostnameError?: string;
  /** The chain verifies against the trusted CAs (validity dates aside: those have their own reasons). */
  readonly chainTrusted: boolean;
  /** OpenSSL's verification error code when the chain did not verify, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly verifyError?: string;
}

/** Errors that are about dates, not trust: the chain itself built fine. */
const DATE_ERRORS = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/*
 * Certificate facts cost CPU: the certificate crosses from OpenSSL into JavaScript as an
 * object, then its fields are parsed. Every check of one server sees the same certificate,
 * so the facts, and the name check per checked name, are kept per SHA-256 fingerprint; a
 * check then costs one fingerprint of the peer's X509Certificate (a few microseconds).
 */
interface KnownCertificate {
  readonly facts: Omit<CertificateFacts, "daysLeft">;
  /** checkServerIdentity's answer per checked name: undefined when the name matches. */
  readonly identityErrors: Map<string, string | undefined>;
}

/** What the handshake negotiated, read the moment it finished (a server may close right after). */
interface Negotiated {
  readonly protocol: string | null;
  readonly cipher: string | undefined;
  readonly peer: X509Certificate | undefined;
}
const negotiatedBySocket = new WeakMap<TLSSocket, Negotiated>();

/**
 * Called by the handshake on 'secureConnect': cheap reads (the certificate is not parsed here).
 * `leafDer`: the peer's certificate when the handshake already read it (peer-chain.ts).
 */
export function rememberNegotiated(socket: TLSSocket, leafDer?: Buffer): void {
  negotiatedBySocket.set(socket, negotiatedOf(socket, leafDer));
}

function negotiatedOf(socket: TLSSocket, leafDer?: Buffer): Negotiated {
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher()?.name,
    peer: leafDer ? new X509Certificate(leafDer) : socket.getPeerX509Certificate(),
  };
}

const knownCertificates = new Map<string, KnownCertificate>();
const MAX_CACHED_CERTIFICATES = 256;
const MAX_NAMES_PER_CERTIFICATE = 32;

function knownCertificate(cert: X509Certificate): KnownCertificate {
  const fingerprint = cert.fingerprint256;
  const known = knownCertificates.get(fingerprint);
  if (known) return known;
  const entry: KnownCertificate = {
    facts: {
      // An empty subject (allowed when the SAN names the host, RFC 5280 §4.1.2.6) reads as undefined.
      subject: (cert.subject ?? "").split("\n").join(", "),
      // Frozen: every result of this certificate shares the array.
      subjectAltNames: Object.freeze((cert.subjectAltName ?? "").split(", ").filter(Boolean)) as string[],
      issuer: (cert.issuer ?? "").split("\n").join(", "),
      serialNumber: cert.serialNumber,
      fingerprintSha256: fingerprint,
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    },
    identityErrors: new Map(),
  };
  if (knownCertificates.size >= MAX_CACHED_CERTIFICATES) {
    const oldest = knownCertificates.keys().next().value;
    if (oldest !== undefined) knownCertificates.delete(oldest);
  }
  knownCertificates.set(fingerprint, entry);
  return entry;
}

/**
 * Node's own checkServerIdentity (RFC 6125 rules: SANs, wildcards, IP addresses, CN only
 * without DNS SANs), asked once per certificate and name. Its input comes from the
 * X509Certificate: after a TLS 1.3 session ticket the socket's getPeerCertificate() may come
 * back empty (OpenSSL replaced the session and its peer chain); the X509Certificate does not.
 */
function identityError(
  cert: X509Certificate,
  known: KnownCertificate,
  checkedName: string,
): string | undefined {
  if (known.identityErrors.has(checkedName)) return known.identityErrors.get(checkedName);
  const error = checkServerIdentity(checkedName, cert.toLegacyObject())?.message;
  if (known.identityErrors.size < MAX_NAMES_PER_CERTIFICATE) known.identityErrors.set(checkedName, error);
  return error;
}

/** Reads the negotiated protocol, cipher and the peer certificate's facts from a finished handshake. */
export function tlsFactsOf(socket: TLSSocket, checkedName: string, now = Date.now()): TlsFacts {
  const { protocol, cipher, peer } = negotiatedBySocket.get(socket) ?? negotiatedOf(socket);
  const verifyError = socket.authorized ? undefined : String(socket.authorizationError ?? "UNKNOWN");
  const chainTrusted = socket.authorized || (verifyError !== undefined && DATE_ERRORS.has(verifyError));
  const base = {
    protocol: protocol ?? "unknown",
    cipher: cipher ?? "unknown",
    checkedName,
    chainTrusted,
    ...(verifyError ? { verifyError } : {}),
  };
  if (peer === undefined)
    return { ...base, hostnameMatch: false, hostnameError: "the server sent no certificate" };

  const known = knownCertificate(peer);
  const hostnameError = identityError(peer, known, checkedName);
  return {
    ...base,
    certificate: {
      ...known.facts,
      daysLeft: Math.floor((new Date(known.facts.notAfter).getTime() - now) / DAY_MS),
    },
    hostnameMatch: hostnameError === undefined,
    ...(hostnameError ? { hostnameError } : {}),
  };
}
