import { isIP } from "node:net";
import type { Endpoint } from "../checks/endpoint.ts";
import { type CheckOptions, checkEndpoint } from "../checks/run-check.ts";
import { addresses } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";

/**
 * Where the DANE check gets the certificate chain an MX host presents: DER, leaf first.
 * Rejects with an Error whose message says why there is none.
 */
export type ChainSource = (host: string, port: number) => Promise<Buffer[]>;

/** The SMTP check's deadline for one chain: connect, greeting, EHLO, STARTTLS, handshake. */
const CHAIN_TIMEOUT_MS = 20_000;

/**
 * The chain read by the SMTP service check's own dialogue (greeting, EHLO, STARTTLS
 * required, TLS handshake): the host's address from the posture resolver, as a sending MTA
 * would find it, and the host name as SNI (RFC 7672 §8.1).
 */
export function smtpStartTlsChain(
  resolver: DnsResolver,
  options: Pick<CheckOptions, "clientName" | "overallTimeoutMs" | "sourceAddress"> = {},
): ChainSource {
  return async (host, port) => {
    const address = isIP(host) !== 0 ? host : await firstAddress(resolver, host);
    const endpoint: Endpoint = {
      url: `smtp://${host}:${port}`,
      kind: "smtp",
      protocol: "smtp",
      host: address,
      port,
      tls: "starttls",
      startTls: "required",
      family: "any",
      tlsServerName: host,
    };
    let chain: Buffer[] | undefined;
    const result = await checkEndpoint(endpoint, {
      overallTimeoutMs: CHAIN_TIMEOUT_MS,
      ...options,
      onPeerChain: (seen) => {
        chain = seen;
      },
    });
    if (!chain || chain.length === 0) {
      throw new Error(
        `${host}:${port} (${address}) gave no certificate chain: ${result.reason}: ${result.message}`,
      );
    }
    return chain;
  };
}

async function firstAddress(resolver: DnsResolver, host: string): Promise<string> {
  for (const type of ["A", "AAAA"] as const) {
    const found = addresses(await resolver.query(host, type));
    if (found[0] !== undefined) return found[0];
  }
  throw new Error(`${host} has no A/AAAA record at ${resolver.server}`);
}
