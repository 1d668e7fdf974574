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

/** Reads the negotiated protocol, cipher and the peer certificate's facts from a finished handshake. */
export function tlsFactsOf(socket: TLSSocket, checkedName: string, now = Date.now()): TlsFacts {
  const peer = socket.getPeerCertificate(false);
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

  const cert = new X509Certificate(peer.raw);
  const notAfter = new Date(cert.validTo);
  const identityError = checkServerIdentity(checkedName, peer);
  return {
    ...base,
    certificate: {
      subject: cert.subject.split("\n").join(", "),
      subjectAltNames: (cert.subjectAltName ?? "").split(", ").filter(Boolean),
      issuer: cert.issuer.split("\n").join(", "),
      serialNumber: cert.serialNumber,
      fingerprintSha256: cert.fingerprint256,
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now) / DAY_MS),
    },
    hostnameMatch: identityError === undefined,
    ...(identityError ? { hostnameError: identityError.message } : {}),
  };
}
