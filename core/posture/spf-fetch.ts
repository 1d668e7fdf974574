import { describeError } from "../basics/describe-error.ts";
import { DnsQueryError } from "../dns/dns-errors.ts";
import { txtStrings } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { isSpfRecord, parseSpf, type SpfRecord } from "./spf-parse.ts";

/** What a domain publishes for SPF: one record, none, too many, a broken one, or a failed query. */
export type SpfLookup =
  | { kind: "record"; text: string; record: SpfRecord }
  | {
      kind: "none";
      nxdomain: boolean /** no TXT records at all: a void lookup (RFC 7208 §4.6.4) */;
      void: boolean;
    }
  | { kind: "multiple"; texts: string[] }
  | { kind: "syntax"; text: string; error: string }
  | { kind: "dns-error"; message: string };

/** Reads and parses the SPF record of a domain (RFC 7208 §4.5). */
export async function fetchSpf(resolver: DnsResolver, domain: string): Promise<SpfLookup> {
  let answer: Awaited<ReturnType<DnsResolver["query"]>>;
  try {
    answer = await resolver.query(domain, "TXT");
  } catch (error) {
    if (!(error instanceof DnsQueryError)) throw error;
    return { kind: "dns-error", message: describeError(error) };
  }
  const strings = txtStrings(answer);
  const texts = strings.filter(isSpfRecord);
  if (texts.length === 0) {
    return { kind: "none", nxdomain: answer.rcode === "NXDOMAIN", void: strings.length === 0 };
  }
  if (texts.length > 1) return { kind: "multiple", texts };
  const text = texts[0] ?? "";
  const parsed = parseSpf(text);
  return parsed.ok
    ? { kind: "record", text, record: parsed.record }
    : { kind: "syntax", text, error: parsed.error };
}
