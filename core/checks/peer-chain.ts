import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

/** Longest chain read; real chains have 2 to 4 certificates. */
const MAX_CHAIN = 10;

/**
 * The certificate chain of a finished handshake as DER, leaf first, each issuer after the
 * certificate it signed: what DANE (RFC 7672) matches TLSA records against. Node links the
 * certificates the server sent and, when the server left out its root, appends the issuer it
 * finds among the CAs the handshake trusted; a self-signed certificate ends the chain.
 */
export function peerChainDer(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && chain.length < MAX_CHAIN && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}
