import type { PostureConfig } from "../config/posture-schema.ts";
import { createDnsResolver, type DnsResolver } from "../dns/dns-resolver.ts";
import { parseResolverAddress, systemResolverAddress } from "../dns/resolver-address.ts";

/**
 * The resolver the monitor's posture checks ask: the configured one, else the first nameserver
 * of /etc/resolv.conf (the host's locally; inside a Lambda, the one its environment provides in
 * the VPC, which security groups do not filter).
 * Throws ResolverAddressError when neither names one.
 */
export function postureResolverFor(config: PostureConfig): DnsResolver {
  return createDnsResolver({
    server: config.resolver === undefined ? systemResolverAddress() : parseResolverAddress(config.resolver),
    timeoutMs: config.timeoutMs,
    retries: config.retries,
  });
}
