import { parseEndpointUrl } from "../checks/endpoint.ts";

/** What trustedAuthservIdsOf reads of a target's configuration. */
export interface VerdictTarget {
  readonly endpoints: readonly { readonly url: string }[];
  readonly probe?: { readonly to: string; readonly receiverAuthservIds?: readonly string[] | undefined };
}

/**
 * The authserv-ids whose Authentication-Results count for a target: the configured ones, or
 * else the probe address's domain (covering its subdomains, where a receiving MTA names itself)
 * and the host names of the target's endpoints. A hosted mailbox names its provider
 * (mx.google.com, "(none)" for Microsoft 365), which only configuration can say.
 */
export function trustedAuthservIdsOf(target: VerdictTarget): string[] {
  if (target.probe?.receiverAuthservIds !== undefined) return [...target.probe.receiverAuthservIds];
  const ids = new Set<string>();
  const domain = target.probe?.to.split("@")[1];
  if (domain !== undefined) ids.add(domain.toLowerCase());
  for (const endpoint of target.endpoints) {
    const host = hostOf(endpoint.url);
    // An IP literal names no authentication service.
    if (host !== undefined && /[A-Za-z]/.test(host) && !host.includes(":")) ids.add(host.toLowerCase());
  }
  return [...ids];
}

function hostOf(url: string): string | undefined {
  try {
    return parseEndpointUrl(url).host;
  } catch {
    return undefined;
  }
}
