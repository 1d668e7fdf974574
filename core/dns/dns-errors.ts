/**
 * Why a DNS query got no usable answer. NXDOMAIN and NODATA are answers, not failures: the
 * resolver returns them and the posture checks judge what they mean.
 */
export type DnsFailure =
  | "timeout" // no reply on any try (UDP retries, or the TCP retry after truncation)
  | "servfail" // RCODE 2 (RFC 1035 §4.1.1): the server could not answer (often a DNSSEC failure)
  | "refused" // RCODE 5: the server will not answer this client or name
  | "rcode" // any other error RCODE (FORMERR, NOTIMP, ...)
  | "network" // the socket failed (ECONNREFUSED on TCP, ICMP port unreachable on UDP, ...)
  | "malformed"; // the reply does not decode, or answers a different question

/** The query a failure is about: enough to repeat it with dig. */
export interface DnsQuestion {
  readonly name: string;
  readonly type: string;
  /** The resolver asked, "host:port". */
  readonly server: string;
}

/** A DNS query failed; the message names the query (name, type, server) and why. */
export class DnsQueryError extends Error {
  override readonly name = "DnsQueryError";
  constructor(
    readonly question: DnsQuestion,
    readonly failure: DnsFailure,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`DNS ${question.type} ${question.name} @${question.server}: ${detail}`, options);
  }
}
