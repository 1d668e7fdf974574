import type { Socket } from "node:net";
import { isIP } from "node:net";
import { type SecureContext, type TLSSocket, connect as tlsConnect } from "node:tls";
import { CheckFailure } from "./errors.ts";
import { peerChainDer } from "./peer-chain.ts";
import { rememberNegotiated } from "./tls-facts.ts";

/**
 * Runs a TLS client handshake over an already connected socket (implicit TLS right after
 * connect, or after a STARTTLS reply) with an absolute deadline. The chain is verified
 * against `trust` but never enforced here: the facts decide the status afterwards, so an
 * expired or self-signed certificate is reported as such instead of as a failed handshake.
 */
export function tlsHandshake(
  socket: Socket,
  options: {
    serverName: string;
    trust: SecureContext;
    deadline: number;
    awaitTicketMs?: number;
    /** STARTTLS or STLS when TLS follows that command's go-ahead; absent for implicit TLS. */
    upgradeCommand?: string;
    /** Given the peer's chain as DER, leaf first, the moment the handshake finishes (peer-chain.ts). */
    onPeerChain?: (chain: Buffer[]) => void;
  },
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // SNI carries host names only (RFC 6066 §3), never an IP literal.
    const servername = isIP(options.serverName) ? undefined : options.serverName;
    const secure = tlsConnect({
      socket,
      secureContext: options.trust,
      rejectUnauthorized: false,
      // The name is checked apart (tls-facts.ts); left to Node, a mismatch would also mark the
      // chain untrusted.
      checkServerIdentity: () => undefined,
      ...(servername ? { servername } : {}),
    });
    const restorePeerCertificate = skipPeerCertificateDuringHandshake(secure);
    const timer = setTimeout(
      () => {
        cleanup();
        secure.destroy();
        reject(
          new CheckFailure("timeout-tls", "tls", "the TLS handshake did not finish before the deadline"),
        );
      },
      Math.max(0, options.deadline - Date.now()),
    );
    const onError = (error: NodeJS.ErrnoException) => {
      cleanup();
      secure.destroy();
      const what = describeHandshakeError(error, options.upgradeCommand);
      reject(
        new CheckFailure("tls-failed", "tls", `TLS handshake failed (${what})`, undefined, { cause: error }),
      );
    };
    const onClose = () =>
      onError(
        Object.assign(new Error("the server closed the connection during the handshake"), {
          code: "ECONNRESET",
        }),
      );
    const onSecure = () => {
      cleanup();
      // Read only when asked: converting the chain is the cost skipped during the handshake.
      // Read once, the leaf handed on: on Node 20.20 a second read of the peer's certificate
      // on one socket (getPeerCertificate or getPeerX509Certificate, TLS 1.2 or 1.3) comes
      // back empty (measured).
      const chain = options.onPeerChain ? peerChainDer(secure) : undefined;
      rememberNegotiated(secure, chain?.[0]);
      if (chain) options.onPeerChain?.(chain);
      const wait = Math.min(options.awaitTicketMs ?? 0, Math.max(0, options.deadline - Date.now()));
      if (wait <= 0 || secure.getProtocol() !== "TLSv1.3") {
        resolve(secure);
        return;
      }
      // After a STARTTLS handshake the client speaks first. A TLS 1.3 server sends its session
      // ticket right after our Finished; if our command goes out before the ticket arrives,
      // nothing acknowledges the ticket, and a server without TCP_NODELAY (Postfix) holds its
      // reply for our delayed ACK: a 40 ms stall on every check. Writing once the ticket is in
      // lets the command carry the ACK. setImmediate: writing from inside the 'session'
      // callback itself loses the reply.
      const done = () => {
        clearTimeout(fallback);
        secure.off("session", onSession);
        secure.off("error", done);
        secure.off("close", done);
        resolve(secure);
      };
      const onSession = () => setImmediate(done);
      const fallback = setTimeout(done, wait);
      secure.once("session", onSession);
      // A server that resets the connection now must not crash the process (an 'error' with no
      // listener would): the wait ends, and the next read reports the closed connection.
      secure.once("error", done);
      secure.once("close", done);
    };
    function cleanup() {
      restorePeerCertificate();
      clearTimeout(timer);
      secure.off("error", onError);
      secure.off("close", onClose);
      secure.off("secureConnect", onSecure);
    }
    secure.once("error", onError);
    secure.once("close", onClose);
    secure.once("secureConnect", onSecure);
  });
}

/**
 * OpenSSL's message without its trailing newline, and what "wrong version number" means
 * here: the first bytes from the server were not a TLS record, it speaks plain text.
 */
function describeHandshakeError(error: NodeJS.ErrnoException, upgradeCommand: string | undefined): string {
  const message = error.message.trim();
  const what = error.code ? `${error.code}: ${message}` : message;
  if (error.code !== "ERR_SSL_WRONG_VERSION_NUMBER") return what;
  const meaning = upgradeCommand
    ? `the server answered ${upgradeCommand} but did not start TLS: it speaks plain text`
    : "the server does not speak TLS on this port: it answers in plain text";
  return `${meaning}; ${what}`;
}

/**
 * When the chain verifies (and the session is not a resumed one), Node's handshake converts
 * the whole peer chain into objects (getPeerCertificate(true): every issuer, each with three
 * fingerprints) only to hand it to checkServerIdentity, and ours above ignores it: the facts
 * are read afterwards from the X509Certificate, once per certificate (tls-facts.ts). That
 * conversion was the largest single part of a trusted check's CPU (426 µs a call on the demo
 * host's two-certificate chain; 30 µs for the leaf alone; about 0.3 ms per check under load,
 * measured). So, until the handshake is over, this socket's getPeerCertificate() answers with
 * an empty certificate; the returned function restores the normal method before anyone else
 * can ask (every way out of tlsHandshake calls it).
 */
function skipPeerCertificateDuringHandshake(secure: TLSSocket): () => void {
  Object.defineProperty(secure, "getPeerCertificate", {
    configurable: true,
    writable: true,
    value: () => NOT_READ_DURING_HANDSHAKE,
  });
  return () => {
    Reflect.deleteProperty(secure, "getPeerCertificate");
  };
}

const NOT_READ_DURING_HANDSHAKE = Object.freeze({});
