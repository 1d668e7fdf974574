import type { DnsAnswer } from "../dns/dns-resolver.ts";

/**
 * TLSA records (RFC 6698 §2.1) as the DANE check reads them, with the mnemonics of RFC 7218
 * for their three parameters.
 */
export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  /** The certificate association data, lower-case hex. */
  readonly data: string;
}

/** RFC 7218 §2.1: certificate usages. */
export const TLSA_USAGES: Record<number, string> = { 0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE" };
/** RFC 7218 §2.2: selectors. */
export const TLSA_SELECTORS: Record<number, string> = { 0: "Cert", 1: "SPKI" };
/** RFC 7218 §2.3: matching types, with the digest's length in bytes (none for Full). */
export const TLSA_MATCHING_TYPES: Record<number, { name: string; algorithm?: string; bytes?: number }> = {
  0: { name: "Full" },
  1: { name: "SHA2-256", algorithm: "sha256", bytes: 32 },
  2: { name: "SHA2-512", algorithm: "sha512", bytes: 64 },
};

/** The TLSA records of an answer; dns-packet decodes the RDATA to its four fields. */
export function tlsaRecords(answer: DnsAnswer): TlsaRecord[] {
  return answer.records
    .filter((record) => record.type === "TLSA")
    .map((record) => {
      const data = record.data as {
        usage: number;
        selector: number;
        matchingType: number;
        certificate: Buffer;
      };
      return {
        usage: data.usage,
        selector: data.selector,
        matchingType: data.matchingType,
        data: Buffer.from(data.certificate).toString("hex"),
      };
    });
}

/** As in a zone file, "3 1 1 8a9f…", the data cut after 16 hex digits when it is longer. */
export function describeTlsa(record: TlsaRecord): string {
  const data = record.data.length > 16 ? `${record.data.slice(0, 16)}…` : record.data;
  return `${record.usage} ${record.selector} ${record.matchingType} ${data}`;
}

/**
 * Why an SMTP client must not use this record, or undefined when it may. RFC 7672 §3.1.3:
 * PKIX-TA and PKIX-EE rely on a CA list the sender and receiver do not share, so SMTP clients
 * treat them as unusable; RFC 6698 §4.1 and RFC 7671 §4: unknown parameters, and a digest of
 * the wrong length, make a record unusable.
 */
export function unusableBecause(record: TlsaRecord): string | undefined {
  const usage = TLSA_USAGES[record.usage];
  if (record.usage === 0 || record.usage === 1) {
    return `usage ${record.usage} (${usage}) is unusable for SMTP (RFC 7672 §3.1.3)`;
  }
  if (usage === undefined) return `usage ${record.usage} is unknown`;
  if (TLSA_SELECTORS[record.selector] === undefined) return `selector ${record.selector} is unknown`;
  const matching = TLSA_MATCHING_TYPES[record.matchingType];
  if (matching === undefined) return `matching type ${record.matchingType} is unknown`;
  if (matching.bytes !== undefined && record.data.length !== matching.bytes * 2) {
    return `a ${matching.name} digest of ${record.data.length / 2} bytes, not ${matching.bytes}`;
  }
  if (record.data.length === 0) return "no association data";
  return undefined;
}
