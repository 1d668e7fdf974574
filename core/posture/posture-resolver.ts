import type { PostureConfig } from "../config/posture-schema.ts";
import { createDnsResolver, type DnsResolver } from "../dns/dns-resolver.ts";
import { parseResolverAddress, systemResolverAddress } from "../dns/resolver-address.ts";

/**
 * The resolver the monitor's posture checks ask: the configured one, else the first nameserver
 * of /etc/resolv.conf (the host's locally; inside a Lambda in a VPC, the VPC's resolver).
 * Throws ResolverAddressError when neither names one.
 */
export function postureResolverFor(config: PostureConfig): DnsResolver {
  return createDnsResolver({
    server: config.resolver === undefined ? systemResolverAddress() : parseResolverAddress(config.resolver),
    timeoutMs: config.timeoutMs,
    retries: config.retries,
  });
}
