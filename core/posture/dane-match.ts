import { createHash, X509Certificate } from "node:crypto";
import { TLSA_MATCHING_TYPES, type TlsaRecord } from "./tlsa-records.ts";

/** One certificate of the chain the MX host presented, with the digests TLSA records name. */
export interface ChainCertificateFacts {
  readonly subject: string;
  /** SHA-256 of the whole certificate (selector 0, matching type 1). */
  readonly certSha256: string;
  /** SHA-256 of the SubjectPublicKeyInfo (selector 1, matching type 1). */
  readonly spkiSha256: string;
}

/** Which record matched which certificate of the chain (0 is the leaf). */
export interface DaneMatch {
  readonly record: TlsaRecord;
  readonly depth: number;
}

export interface DaneVerdict {
  readonly match?: DaneMatch;
  /** Why a DANE-TA record that named a certificate of the chain still did not authenticate it. */
  readonly rejected: string[];
}

/** RFC 6698 §2.1.2: selector 0 is the whole certificate (DER), 1 its SubjectPublicKeyInfo (DER). */
function selected(cert: X509Certificate, selector: number): Buffer {
  return selector === 0 ? cert.raw : cert.publicKey.export({ type: "spki", format: "der" });
}

/** The association data this certificate would need for the record's selector and matching type. */
export function associationData(cert: X509Certificate, selector: number, matchingType: number): string {
  const bytes = selected(cert, selector);
  const algorithm = TLSA_MATCHING_TYPES[matchingType]?.algorithm;
  return (algorithm ? createHash(algorithm).update(bytes).digest() : bytes).toString("hex");
}

const recordMatches = (record: TlsaRecord, cert: X509Certificate): boolean =>
  associationData(cert, record.selector, record.matchingType) === record.data.toLowerCase();

export const chainFacts = (chain: readonly X509Certificate[]): ChainCertificateFacts[] =>
  chain.map((cert) => ({
    subject: (cert.subject ?? "").split("\n").join(", "),
    certSha256: associationData(cert, 0, 1),
    spkiSha256: associationData(cert, 1, 1),
  }));

export const parseChain = (chainDer: readonly Buffer[]): X509Certificate[] =>
  chainDer.map((der) => new X509Certificate(der));

/**
 * Matches usable TLSA records against the chain, leaf first (RFC 7671 §5):
 * - DANE-EE (3) matches the leaf only; its names and validity dates are ignored (§5.1).
 * - DANE-TA (2) matches a certificate above the leaf, which then serves as trust anchor: each
 *   certificate below it must be issued and signed by the next, those issuers must be CAs, the
 *   certificates below the anchor must be within their validity dates (the anchor's own are
 *   not checked, as for any trust anchor), and the leaf must name the MX host (§5.2.2, RFC 7672
 *   §3.2.3; wildcards only as the whole leftmost label).
 * Simplified: the anchor must be in the chain as seen (a server that leaves out a DANE-TA
 * certificate, relying on a "2 1 0" record holding the full key, is not followed); the name
 * checked is the MX host's, without CNAME expansion; no other X.509 constraints are checked.
 */
export function matchChain(
  records: readonly TlsaRecord[],
  chain: readonly X509Certificate[],
  mxHost: string,
  now = new Date(),
): DaneVerdict {
  const rejected: string[] = [];
  const leaf = chain[0];
  if (!leaf) return { rejected: ["the server sent no certificate"] };
  for (const record of records.filter((r) => r.usage === 3)) {
    if (recordMatches(record, leaf)) return { match: { record, depth: 0 }, rejected };
  }
  for (const record of records.filter((r) => r.usage === 2)) {
    for (let depth = 1; depth < chain.length; depth++) {
      if (!recordMatches(record, chain[depth] as X509Certificate)) continue;
      const broken = validateToAnchor(chain.slice(0, depth + 1), mxHost, now);
      if (broken === undefined) return { match: { record, depth }, rejected };
      rejected.push(
        `certificate ${depth} matches ${record.usage} ${record.selector} ${record.matchingType}, but ${broken}`,
      );
    }
  }
  return { rejected };
}

/** Why the path from the leaf up to the anchor (the last) does not validate, or undefined. */
function validateToAnchor(path: readonly X509Certificate[], mxHost: string, now: Date): string | undefined {
  for (let depth = 0; depth < path.length - 1; depth++) {
    const cert = path[depth] as X509Certificate;
    const issuer = path[depth + 1] as X509Certificate;
    if (!issuer.ca) return `certificate ${depth + 1} is no CA certificate`;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return `certificate ${depth} is not signed by certificate ${depth + 1}`;
    }
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      return `certificate ${depth} is outside its validity dates (${cert.validFrom} to ${cert.validTo})`;
    }
  }
  const leaf = path[0] as X509Certificate;
  const named = leaf.checkHost(mxHost, {
    wildcards: true,
    partialWildcards: false,
    multiLabelWildcards: false,
  });
  return named === undefined ? `the leaf certificate does not name ${mxHost}` : undefined;
}
