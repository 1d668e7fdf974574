import type { DnsAnswer, DnsRecord } from "./dns-resolver.ts";

/**
 * Reading typed records out of an answer. A name with a CNAME answers with the CNAME first and
 * then the target's records (RFC 1034 §3.6.2): these helpers take every record of the type
 * asked, whatever name it is under, and `cnameOf` says whether the name was an alias.
 */

const recordsOfType = (answer: DnsAnswer, type: string): DnsRecord[] =>
  answer.records.filter((record) => record.type === type);

/** NXDOMAIN, or NOERROR without a record of the type asked (NODATA): a "void lookup" in RFC 7208 §4.6.4. */
export const isEmptyAnswer = (answer: DnsAnswer): boolean =>
  answer.rcode === "NXDOMAIN" || recordsOfType(answer, answer.question.type).length === 0;

/** Each TXT record as one string: its character-strings joined without spaces (RFC 7208 §3.3). */
export function txtStrings(answer: DnsAnswer): string[] {
  return recordsOfType(answer, "TXT").map((record) => {
    const data = record.data as Buffer | string | (Buffer | string)[];
    const parts = Array.isArray(data) ? data : [data];
    return parts.map((part) => (typeof part === "string" ? part : part.toString("utf8"))).join("");
  });
}

export interface MxRecord {
  readonly preference: number;
  readonly exchange: string;
}

export function mxRecords(answer: DnsAnswer): MxRecord[] {
  return recordsOfType(answer, "MX").map((record) => {
    const data = record.data as { preference?: number; exchange: string };
    return { preference: data.preference ?? 0, exchange: data.exchange.replace(/\.$/, "") };
  });
}

/** The A or AAAA addresses in the answer. */
export const addresses = (answer: DnsAnswer): string[] =>
  answer.records
    .filter((record) => record.type === "A" || record.type === "AAAA")
    .map((record) => String(record.data));

/** The CNAME target the asked name points at, when it is an alias. */
export function cnameOf(answer: DnsAnswer): string | undefined {
  const asked = answer.question.name.replace(/\.$/, "").toLowerCase();
  const alias = recordsOfType(answer, "CNAME").find((record) => record.name.toLowerCase() === asked);
  return alias === undefined ? undefined : String(alias.data);
}
