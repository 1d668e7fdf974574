/**
 * DNS blocklists (RFC 5782): which lists the blocklist check asks by default and what their
 * answers mean. A listed address answers A records in 127.0.0.0/8 (RFC 5782 §2.1); NXDOMAIN
 * is "not listed". Some answers are no listing at all: the list refusing the query.
 */

export type DnsblSeverity = "WARNING" | "CRITICAL";

export interface DnsblList {
  /** The list's zone the reversed address is put under, e.g. zen.spamhaus.org. */
  readonly zone: string;
  /** The status of a listing on this list. */
  readonly severity: DnsblSeverity;
  /** What each listing code means; a code not named is a listing whose meaning is not known. */
  readonly codes?: Readonly<Record<string, string>>;
  /** Codes by which the list refuses to answer (not a listing), with why. */
  readonly refused?: Readonly<Record<string, string>>;
}

/**
 * Spamhaus ZEN's published return codes, and its error codes in 127.255.255.0/24. PBL is a policy listing: the range's owner says it should not send
 * mail directly; for a mail server's own IP it is still a listing receivers act on.
 */
const SPAMHAUS_CODES: Record<string, string> = {
  "127.0.0.2": "SBL (Spamhaus Block List: a spam source or operation)",
  "127.0.0.3": "CSS (Spamhaus CSS: a low-reputation sender, snowshoe spam)",
  "127.0.0.4": "XBL (Exploits Block List: a compromised or infected host)",
  "127.0.0.5": "XBL (Exploits Block List)",
  "127.0.0.6": "XBL (Exploits Block List)",
  "127.0.0.7": "XBL (Exploits Block List)",
  "127.0.0.9": "DROP (Don't Route Or Peer: a hijacked or criminal network)",
  "127.0.0.10": "PBL policy listing (ISP-maintained: this range should not send mail directly)",
  "127.0.0.11": "PBL policy listing (Spamhaus-maintained: this range should not send mail directly)",
};

const SPAMHAUS_REFUSED: Record<string, string> = {
  "127.255.255.252": "query refused: typing error in the DNSBL name",
  "127.255.255.254":
    "query refused: asked through a public or open resolver (or one without reverse DNS); use a DQS key or your own resolver",
  "127.255.255.255": "query refused: over the free-use limit; use a DQS key or your own resolver",
};

/** Codes known by the list's zone, used when the configuration names none (DQS zones too). */
export function knownCodes(zone: string): Pick<DnsblList, "codes" | "refused"> {
  const name = zone.toLowerCase().replace(/\.$/, "");
  if (/(^|\.)zen\.(dq\.)?spamhaus\.(org|net)$/.test(name))
    return { codes: SPAMHAUS_CODES, refused: SPAMHAUS_REFUSED };
  return {};
}

/**
 * Well-known lists free for low-volume use that answer for a mail server's IP, without a
 * registration. Spamhaus refuses queries from public and most cloud resolvers (8.8.8.8,
 * 1.1.1.1, the AWS VPC resolver, ...) with 127.255.255.254: a dnsbl-refused until the
 * configuration names an own resolver or a DQS zone. Barracuda (b.barracudacentral.org) is not
 * among them: it answers only resolvers whose IP is registered with it, so by default it would
 * be a standing UNKNOWN; it is opt-in through `posture.dnsbls` (or `--dnsbl`).
 */
export const DEFAULT_DNSBLS: readonly DnsblList[] = [
  { zone: "zen.spamhaus.org", severity: "CRITICAL", ...knownCodes("zen.spamhaus.org") },
  { zone: "bl.spamcop.net", severity: "WARNING", codes: { "127.0.0.2": "SpamCop: reported spam source" } },
  { zone: "psbl.surriel.com", severity: "WARNING", codes: { "127.0.0.2": "PSBL: sent to spam traps" } },
  {
    zone: "dnsbl-1.uceprotect.net",
    severity: "WARNING",
    codes: { "127.0.0.2": "UCEPROTECT level 1: this IP sent to spam traps" },
  },
  {
    zone: "bl.mailspike.net",
    severity: "WARNING",
    codes: { "127.0.0.2": "Mailspike: poor sender reputation" },
  },
];

export type DnsblVerdict =
  | { readonly kind: "listed"; readonly code: string; readonly meaning: string }
  | { readonly kind: "refused"; readonly code: string; readonly meaning: string };

/**
 * What one A record of a blocklist answer means. 127.255.255.0/24 is how lists say "refused"
 * (Spamhaus's convention, followed by others), 127.0.0.1 is no listing code (RFC 5782 §5:
 * lists answer it when they block a querier), and anything outside 127.0.0.0/8 is no DNSBL
 * answer at all (a resolver that rewrites NXDOMAIN to an ad server, RFC 5782 §2.1).
 */
export function dnsblVerdict(list: DnsblList, code: string): DnsblVerdict {
  const refused = list.refused?.[code];
  if (refused !== undefined) return { kind: "refused", code, meaning: refused };
  const meaning = list.codes?.[code];
  if (meaning !== undefined) return { kind: "listed", code, meaning };
  if (code.startsWith("127.255.255."))
    return { kind: "refused", code, meaning: "query refused or in error (127.255.255.x is no listing)" };
  if (code === "127.0.0.1")
    return { kind: "refused", code, meaning: "query refused (127.0.0.1 is no listing code, RFC 5782 §5)" };
  if (!/^127\.\d+\.\d+\.\d+$/.test(code))
    return {
      kind: "refused",
      code,
      meaning: "no DNSBL answer: outside 127.0.0.0/8 (does the resolver rewrite NXDOMAIN?)",
    };
  return { kind: "listed", code, meaning: "listed (code without a known meaning)" };
}
