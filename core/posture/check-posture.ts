import type { DnsResolver } from "../dns/dns-resolver.ts";
import type { ChainSource } from "./dane-chain.ts";
import { checkDane } from "./dane-check.ts";
import { checkDmarc } from "./dmarc-check.ts";
import { checkDnsbl } from "./dnsbl-check.ts";
import type { DnsblList } from "./dnsbl-lists.ts";
import { checkMtaSts, type MtaStsCheckOptions } from "./mta-sts-check.ts";
import { checkMx } from "./mx-check.ts";
import { memoized } from "./posture-dns.ts";
import type { PostureResult } from "./posture-result.ts";
import { checkReverseDns } from "./reverse-dns-check.ts";
import { checkSpf } from "./spf-check.ts";
import { checkTlsRpt } from "./tls-rpt-check.ts";

export interface PostureOptions {
  readonly endpointHosts?: readonly string[];
  readonly senderIp?: string;
  readonly fromDomain?: string;
  /** How the MTA-STS policy is fetched and whether MTA-STS is required. */
  readonly mtaSts?: MtaStsCheckOptions;
  /** A missing TLS-RPT record is a WARNING rather than "not published". */
  readonly tlsRptRequired?: boolean;
  /** MX host name -> the host name its SMTP banner announced, compared with its PTR. */
  readonly bannerHosts?: Readonly<Record<string, string>>;
  /** The blocklists to ask (default DEFAULT_DNSBLS; empty: none). */
  readonly dnsbls?: readonly DnsblList[];
  /** Outbound addresses looked up in the blocklists beside the MX addresses. */
  readonly outboundIps?: readonly string[];
  /** The MX hosts' certificate chains for DANE; by default read over STARTTLS on port 25. */
  readonly chainOf?: ChainSource;
}

/**
 * Every mail DNS posture check of one domain, in a fixed order: MX, SPF, DMARC, MTA-STS,
 * TLS-RPT, reverse DNS, blocklists, DANE. The checks share one memo of answers: each asks the MX
 * hosts and their addresses, and the resolver hears each question once.
 */
export async function checkPosture(
  resolver: DnsResolver,
  domain: string,
  options: PostureOptions = {},
): Promise<PostureResult[]> {
  const optional = <K extends keyof PostureOptions>(key: K) =>
    options[key] === undefined ? {} : { [key]: options[key] };
  const shared = memoized(resolver);
  return Promise.all([
    checkMx(shared, domain, optional("endpointHosts")),
    checkSpf(shared, domain, optional("senderIp")),
    checkDmarc(shared, domain, optional("fromDomain")),
    checkMtaSts(shared, domain, options.mtaSts),
    checkTlsRpt(
      shared,
      domain,
      options.tlsRptRequired === undefined ? {} : { required: options.tlsRptRequired },
    ),
    checkReverseDns(shared, domain, optional("bannerHosts")),
    checkDnsbl(shared, domain, { ...optional("dnsbls"), ...optional("outboundIps") }),
    checkDane(shared, domain, optional("chainOf")),
  ]) as Promise<PostureResult[]>;
}
