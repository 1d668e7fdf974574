import { getDomain } from "tldts";

/**
 * The organizational domain of a name (RFC 7489 §3.2): its public suffix plus one label, by the
 * Public Suffix List (ICANN and private sections, as DMARC receivers use it). A name that is a
 * public suffix itself, or no domain, is its own.
 */
export function organizationalDomain(name: string): string {
  const bare = name.replace(/\.$/, "").toLowerCase();
  return getDomain(bare, { allowPrivateDomains: true }) ?? bare;
}
