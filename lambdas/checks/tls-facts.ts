import { X509Certificate } from "node:crypto";
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from "node:tls";

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
 * Certificate facts cost CPU (the certificate crosses from OpenSSL into JavaScript, then is
 * parsed again as an X509Certificate): about a quarter of a check's CPU, measured. Two savings:
 * Node itself fetches the peer certificate for checkServerIdentity when the chain verifies,
 * so the handshake hands us that object instead of us asking again; and the parsed facts are
 * kept per certificate fingerprint, since every check of one server sees the same certificate.
 */
const peerSeenInHandshake = new WeakMap<TLSSocket, PeerCertificate>();
const factsByFingerprint = new Map<string, Omit<CertificateFacts, "daysLeft">>();
const MAX_CACHED_CERTIFICATES = 256;

/** Called from the handshake's checkServerIdentity hook with the certificate Node already fetched. */
export function rememberPeerCertificate(socket: TLSSocket, certificate: PeerCertificate): void {
  peerSeenInHandshake.set(socket, certificate);
}

function certificateFacts(peer: PeerCertificate): Omit<CertificateFacts, "daysLeft"> {
  const cached = peer.fingerprint256 ? factsByFingerprint.get(peer.fingerprint256) : undefined;
  if (cached) return cached;
  const cert = new X509Certificate(peer.raw);
  const facts = {
    subject: cert.subject.split("\n").join(", "),
    subjectAltNames: (cert.subjectAltName ?? "").split(", ").filter(Boolean),
    issuer: cert.issuer.split("\n").join(", "),
    serialNumber: cert.serialNumber,
    fingerprintSha256: cert.fingerprint256,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
  if (factsByFingerprint.size >= MAX_CACHED_CERTIFICATES) {
    const oldest = factsByFingerprint.keys().next().value;
    if (oldest !== undefined) factsByFingerprint.delete(oldest);
  }
  factsByFingerprint.set(cert.fingerprint256, facts);
  return facts;
}

/** Reads the negotiated protocol, cipher and the peer certificate's facts from a finished handshake. */
export function tlsFactsOf(socket: TLSSocket, checkedName: string, now = Date.now()): TlsFacts {
  const peer = peerSeenInHandshake.get(socket) ?? socket.getPeerCertificate(false);
  const verifyError = socket.authorized ? undefined : String(socket.authorizationError ?? "UNKNOWN");
  const chainTrusted = socket.authorized || (verifyError !== undefined && DATE_ERRORS.has(verifyError));
  const base = {
    protocol: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.name ?? "unknown",
    checkedName,
    chainTrusted,
    ...(verifyError ? { verifyError } : {}),
  };
  if (!peer?.raw) return { ...base, hostnameMatch: false, hostnameError: "the server sent no certificate" };

  const facts = certificateFacts(peer);
  const identityError = checkServerIdentity(checkedName, peer);
  return {
    ...base,
    certificate: {
      ...facts,
      daysLeft: Math.floor((new Date(facts.notAfter).getTime() - now) / DAY_MS),
    },
    hostnameMatch: identityError === undefined,
    ...(identityError ? { hostnameError: identityError.message } : {}),
  };
}
