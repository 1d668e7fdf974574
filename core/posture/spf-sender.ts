import { DnsQueryError } from "../dns/dns-errors.ts";
import { addresses, mxRecords } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { inNetwork, ipFamily } from "./ip-network.ts";
import { fetchSpf } from "./spf-fetch.ts";
import { hasMacro, type SpfMechanism, type SpfQualifier, type SpfRecord } from "./spf-parse.ts";

/** check_host()'s results (RFC 7208 §2.6), and "not-evaluated" where the message's facts are needed. */
export type SpfSenderResult =
  | "pass"
  | "fail"
  | "softfail"
  | "neutral"
  | "none"
  | "permerror"
  | "temperror"
  | "not-evaluated";

export interface SpfSenderVerdict {
  readonly result: SpfSenderResult;
  /** The term that decided, or why it could not be decided. */
  readonly detail: string;
}

const QUALIFIER_RESULTS: Record<SpfQualifier, SpfSenderResult> = {
  "+": "pass",
  "-": "fail",
  "~": "softfail",
  "?": "neutral",
};

/** Terms deep enough to be a loop; the lookup limit (checked by walkSpf) is the real bound. */
const DEPTH_LIMIT = 12;

/**
 * Whether mail from `ip` with a MAIL FROM in `domain` would pass: check_host() (RFC 7208 §4.6)
 * over ip4, ip6, a, mx, include and redirect. exists, ptr and macros need the message (the
 * sender's local part, the reverse DNS of the connection): meeting one before a match ends the
 * evaluation as "not-evaluated", which says which term it was.
 */
export async function evaluateSender(
  resolver: DnsResolver,
  domain: string,
  record: SpfRecord,
  ip: string,
  depth = 0,
): Promise<SpfSenderVerdict> {
  if (depth > DEPTH_LIMIT) return { result: "permerror", detail: "include/redirect nested too deep" };
  for (const mechanism of record.mechanisms) {
    const matched = await matches(resolver, domain, mechanism, ip, depth);
    if (typeof matched !== "boolean") return matched;
    if (matched)
      return {
        result: QUALIFIER_RESULTS[mechanism.qualifier],
        detail: `matched ${mechanism.text} in ${domain}`,
      };
  }
  const hasAll = record.mechanisms.some((mechanism) => mechanism.kind === "all");
  if (record.redirect !== undefined && !hasAll) {
    if (hasMacro(record.redirect)) return notEvaluated(`redirect=${record.redirect}`);
    const target = await fetchSpf(resolver, record.redirect);
    if (target.kind !== "record") {
      return target.kind === "dns-error"
        ? { result: "temperror", detail: target.message }
        : { result: "permerror", detail: `redirect=${record.redirect}: no single valid SPF record there` };
    }
    return evaluateSender(resolver, record.redirect, target.record, ip, depth + 1);
  }
  return { result: "neutral", detail: `no term in ${domain} matched, and no all (RFC 7208 §4.7)` };
}

const notEvaluated = (term: string): SpfSenderVerdict => ({
  result: "not-evaluated",
  detail: `${term} needs the message's own facts: not evaluated`,
});

/** true/false for a term's match, or the verdict that ends the evaluation. */
async function matches(
  resolver: DnsResolver,
  domain: string,
  mechanism: SpfMechanism,
  ip: string,
  depth: number,
): Promise<boolean | SpfSenderVerdict> {
  const target = mechanism.domain ?? domain;
  if (mechanism.kind === "exists" || mechanism.kind === "ptr" || hasMacro(target))
    return notEvaluated(mechanism.text);
  const family = ipFamily(ip);
  const prefix = family === 4 ? mechanism.prefix4 : mechanism.prefix6;
  try {
    switch (mechanism.kind) {
      case "all":
        return true;
      case "ip4":
      case "ip6":
        return inNetwork(ip, mechanism.address ?? "", prefix);
      case "a": {
        const answer = await resolver.query(target, family === 4 ? "A" : "AAAA");
        return addresses(answer).some((address) => inNetwork(ip, address, prefix));
      }
      case "mx": {
        const hosts = mxRecords(await resolver.query(target, "MX")).slice(0, 10);
        for (const host of hosts) {
          const answer = await resolver.query(host.exchange, family === 4 ? "A" : "AAAA");
          if (addresses(answer).some((address) => inNetwork(ip, address, prefix))) return true;
        }
        return false;
      }
      case "include": {
        const included = await fetchSpf(resolver, target);
        if (included.kind === "dns-error") return { result: "temperror", detail: included.message };
        if (included.kind !== "record") {
          return { result: "permerror", detail: `${mechanism.text}: no single valid SPF record there` };
        }
        const inner = await evaluateSender(resolver, target, included.record, ip, depth + 1);
        // An include matches only on pass; errors propagate (RFC 7208 §5.2 table).
        if (inner.result === "pass") return true;
        if (inner.result === "fail" || inner.result === "softfail" || inner.result === "neutral")
          return false;
        return inner;
      }
    }
  } catch (error) {
    if (error instanceof DnsQueryError) return { result: "temperror", detail: error.message };
    throw error;
  }
}
