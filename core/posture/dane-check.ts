import { describeError } from "../basics/describe-error.ts";
import { mxRecords } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { type ChainSource, smtpStartTlsChain } from "./dane-chain.ts";
import {
  associationData,
  type ChainCertificateFacts,
  chainFacts,
  matchChain,
  parseChain,
} from "./dane-match.ts";
import { ask, memoized } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";
import { describeTlsa, type TlsaRecord, tlsaRecords, unusableBecause } from "./tlsa-records.ts";

/** The SMTP port DANE for MX hosts is about (RFC 7672 §2.2.3: TLSA at _25._tcp.<host>). */
const SMTP_PORT = 25;

export interface DaneRecordFacts {
  /** "3 1 1 <hex>" as in a zone file. */
  readonly record: string;
  /** Why an SMTP client ignores it, when it does. */
  readonly unusable?: string;
}

export interface DaneHostFacts {
  readonly host: string;
  /** Where the TLSA records are looked up, _25._tcp.<host>. */
  readonly tlsaName: string;
  /** "failed" when the TLSA query got no answer (a dns-error says why). */
  readonly tlsa: "published" | "none" | "failed";
  /** The AD bit on the TLSA answer. */
  readonly authenticated?: boolean;
  readonly records: DaneRecordFacts[];
  /** The chain the host presented on port 25 after STARTTLS, leaf first, when it was read. */
  readonly chain?: ChainCertificateFacts[];
  /** The record that authenticated the chain, and the certificate it matched (0 is the leaf). */
  readonly match?: { readonly record: string; readonly depth: number };
}

export interface DaneFacts {
  /** The AD bit on the MX answer: without it, senders do not use the MX hosts' TLSA (RFC 7672 §2.2.1). */
  readonly mxAuthenticated?: boolean;
  readonly hosts: DaneHostFacts[];
}

export interface DaneCheckOptions {
  /** Where the MX hosts' certificate chains come from; by default the SMTP check's own STARTTLS. */
  readonly chainOf?: ChainSource;
}

const NO_DNSSEC_FIX = "the zone is unsigned, or the resolver does not validate: use a validating resolver";

/**
 * DANE for SMTP (RFC 7672): the TLSA records at _25._tcp of each MX host, compared with the
 * chain the host presents after STARTTLS (RFC 6698, RFC 7671), and whether the answers were
 * DNSSEC-validated (the AD bit from the resolver asked). No TLSA anywhere is OK: DANE is not
 * published.
 */
export async function checkDane(
  resolver: DnsResolver,
  domain: string,
  options: DaneCheckOptions = {},
): Promise<PostureResult<DaneFacts>> {
  const started = Date.now();
  const findings: PostureFinding[] = [];
  const hosts: DaneHostFacts[] = [];
  const facts: { mxAuthenticated?: boolean; hosts: DaneHostFacts[] } = { hosts };
  const done = (okMessage: string) =>
    postureResult({ check: "dane", domain, resolver: resolver.server, started, findings, facts, okMessage });
  const dns = memoized(resolver);
  const chainOf = options.chainOf ?? smtpStartTlsChain(dns);

  const mx = await ask(dns, domain, "MX", findings);
  if (!mx) return done("");
  if (mx.rcode === "NXDOMAIN") return done(`DANE not checked: ${domain} does not exist`);
  facts.mxAuthenticated = mx.authenticated;
  const exchanges = mxRecords(mx)
    .sort((a, b) => a.preference - b.preference)
    .map((record) => record.exchange);
  if (exchanges.includes("")) return done(`DANE not checked: ${domain} has a null MX`);
  // No MX: the domain itself is the mail host (implicit MX, RFC 5321 §5.1; RFC 7672 §2.2.1).
  const mailHosts = exchanges.length > 0 ? [...new Set(exchanges)] : [domain];

  hosts.push(...(await Promise.all(mailHosts.map((host) => checkHost(dns, host, chainOf, findings)))));
  const published = hosts.filter((host) => host.tlsa === "published");
  if (published.length > 0 && !mx.authenticated) {
    findings.push(
      finding(
        "dane-not-validated",
        `the MX answer for ${domain} has no AD bit: senders use no TLSA of its MX hosts (RFC 7672 §2.2.1); ${NO_DNSSEC_FIX}`,
      ),
    );
  }
  if (published.length === 0) {
    const none = hosts.filter((host) => host.tlsa === "none").map((host) => host.tlsaName);
    return done(`DANE not published (no TLSA at ${none.join(", ")})`);
  }
  const summary = hosts.map((host) =>
    host.match
      ? `${host.host} ${host.match.record} on certificate ${host.match.depth}`
      : `${host.host} ${host.tlsa === "none" ? "no TLSA" : "unchecked"}`,
  );
  return done(`DANE ${summary.join("; ")}${mx.authenticated ? ", DNSSEC-validated" : ""}`);
}

async function checkHost(
  resolver: DnsResolver,
  host: string,
  chainOf: ChainSource,
  findings: PostureFinding[],
): Promise<DaneHostFacts> {
  const tlsaName = `_${SMTP_PORT}._tcp.${host}`;
  const answer = await ask(resolver, tlsaName, "TLSA", findings);
  if (!answer) return { host, tlsaName, tlsa: "failed", records: [] };
  const records = tlsaRecords(answer);
  if (records.length === 0) return { host, tlsaName, tlsa: "none", records: [] };

  const facts = {
    host,
    tlsaName,
    tlsa: "published" as const,
    authenticated: answer.authenticated,
    records: records.map((record): DaneRecordFacts => {
      const unusable = unusableBecause(record);
      return {
        record: `${record.usage} ${record.selector} ${record.matchingType} ${record.data}`,
        ...(unusable ? { unusable } : {}),
      };
    }),
  };
  if (!answer.authenticated) {
    findings.push(
      finding(
        "dane-not-validated",
        `TLSA ${tlsaName} has no AD bit: DANE counts only with DNSSEC; ${NO_DNSSEC_FIX}`,
      ),
    );
  }
  const usable = records.filter((record) => unusableBecause(record) === undefined);
  if (usable.length === 0) {
    const why = records.map((record) => `${describeTlsa(record)}: ${unusableBecause(record)}`);
    findings.push(finding("tlsa-unusable", `${tlsaName}: no usable TLSA record (${why.join("; ")})`));
    return facts;
  }

  let chainDer: Buffer[];
  try {
    chainDer = await chainOf(host, SMTP_PORT);
  } catch (error) {
    findings.push(
      finding("dane-chain-unavailable", `${tlsaName}: no chain to compare: ${describeError(error)}`),
    );
    return facts;
  }
  let chain: ReturnType<typeof parseChain>;
  try {
    chain = parseChain(chainDer);
  } catch (error) {
    findings.push(
      finding(
        "dane-chain-unavailable",
        `${host}:${SMTP_PORT}: a certificate does not parse: ${describeError(error)}`,
      ),
    );
    return facts;
  }
  const verdict = matchChain(usable, chain, host);
  const withChain = { ...facts, chain: chainFacts(chain) };
  if (verdict.match) {
    const { record, depth } = verdict.match;
    return { ...withChain, match: { record: describeTlsa(record), depth } };
  }
  findings.push(
    finding(
      "tlsa-mismatch",
      `${host}:${SMTP_PORT}: no TLSA record at ${tlsaName} matches the certificate chain: records ${usable
        .map(describeTlsa)
        .join(
          ", ",
        )}; chain ${describeChain(chain, usable)}${verdict.rejected.length > 0 ? `; ${verdict.rejected.join("; ")}` : ""}`,
    ),
  );
  return withChain;
}

/** Each certificate's association data in the forms the records use: what they would need to say. */
function describeChain(chain: ReturnType<typeof parseChain>, records: readonly TlsaRecord[]): string {
  const forms = [...new Set(records.map((record) => `${record.selector} ${record.matchingType}`))];
  return chain
    .map((cert, depth) => {
      const subject = (cert.subject ?? "").split("\n").join(", ");
      const data = forms.map((form) => {
        const [selector, matchingType] = form.split(" ").map(Number) as [number, number];
        const hex = associationData(cert, selector, matchingType);
        return `${form} ${hex.length > 64 ? `${hex.slice(0, 16)}…` : hex}`;
      });
      return `[${depth}] ${subject || "(no subject)"}: ${data.join(", ")}`;
    })
    .join(" ");
}
