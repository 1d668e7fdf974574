import type { DnsResolver } from "../dns/dns-resolver.ts";
import { checkDmarc } from "./dmarc-check.ts";
import { checkMx } from "./mx-check.ts";
import type { PostureResult } from "./posture-result.ts";
import { checkSpf } from "./spf-check.ts";

export interface PostureOptions {
  readonly endpointHosts?: readonly string[];
  readonly senderIp?: string;
  readonly fromDomain?: string;
}

/** Every mail DNS posture check of one domain, in a fixed order: MX, SPF, DMARC. */
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
  ]) as Promise<PostureResult[]>;
}
