import type { DnsResolver } from "../dns/dns-resolver.ts";
import type { ChainSource } from "./dane-chain.ts";
import { checkDane } from "./dane-check.ts";
import { checkDmarc } from "./dmarc-check.ts";
import { checkMx } from "./mx-check.ts";
import type { PostureResult } from "./posture-result.ts";
import { checkSpf } from "./spf-check.ts";

export interface PostureOptions {
  readonly endpointHosts?: readonly string[];
  readonly senderIp?: string;
  readonly fromDomain?: string;
  /** The MX hosts' certificate chains for DANE; by default read over STARTTLS on port 25. */
  readonly chainOf?: ChainSource;
}

/** Every mail DNS posture check of one domain, in a fixed order: MX, SPF, DMARC, DANE. */
export async function checkPosture(
  resolver: DnsResolver,
  domain: string,
  options: PostureOptions = {},
): Promise<PostureResult[]> {
  const optional = <K extends keyof PostureOptions>(key: K) =>
    options[key] === undefined ? {} : { [key]: options[key] };
  return Promise.all([
    checkMx(resolver, domain, optional("endpointHosts")),
    checkSpf(resolver, domain, optional("senderIp")),
    checkDmarc(resolver, domain, optional("fromDomain")),
    checkDane(resolver, domain, optional("chainOf")),
  ]) as Promise<PostureResult[]>;
}
