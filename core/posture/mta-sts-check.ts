import { describeError } from "../basics/describe-error.ts";
import { DnsQueryError } from "../dns/dns-errors.ts";
import { mxRecords, txtStrings } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import {
  isMtaStsRecord,
  type MtaStsPolicy,
  mxMatches,
  parseMtaStsPolicy,
  parseMtaStsRecord,
} from "./mta-sts-parse.ts";
import { createHttpsPolicyFetch, type PolicyFetch, type PolicyFetchResponse } from "./policy-fetch.ts";
import { ask } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureRun } from "./posture-result.ts";

export interface MtaStsFacts {
  published?: boolean;
  record?: string;
  id?: string;
  policyUrl?: string;
  policy?: MtaStsPolicy;
  /** Each MX host with the first mx: pattern that matches it. */
  mxHosts?: { host: string; pattern?: string }[];
  /** Days until the policy host's certificate expires. */
  certificateDaysLeft?: number;
}

export interface MtaStsCheckOptions {
  /** How the policy is fetched; HTTPS through the same resolver by default. */
  readonly fetchPolicy?: PolicyFetch;
  /** A PEM file of CAs the policy host's certificate is checked against, instead of the system's. */
  readonly caFile?: string;
  /** Deadline of the whole policy fetch (default 10 s). */
  readonly timeoutMs?: number;
  /** A missing record is a finding (WARNING), not "not published" (OK). */
  readonly required?: boolean;
}

/** Senders should not read more of a policy (RFC 8461 §3.3). */
export const POLICY_MAX_BYTES = 64 * 1024;
/** A max_age under a day protects little between fetches; RFC 8461 §3.2 expects weeks. */
export const SHORT_MAX_AGE_SECONDS = 86_400;
const DAY_MS = 86_400_000;

/**
 * MTA-STS posture (RFC 8461): the _mta-sts TXT record, the policy fetched over HTTPS from
 * mta-sts.<domain> (certificate verified, no redirects, text/plain, at most 64 KiB), its
 * grammar and max_age, and every MX host matched by an mx: pattern.
 */
export async function checkMtaSts(
  resolver: DnsResolver,
  domain: string,
  options: MtaStsCheckOptions = {},
): Promise<PostureResult<MtaStsFacts>> {
  const facts: MtaStsFacts = {};
  const { findings, done } = postureRun("mta-sts", domain, resolver, facts);
  const bare = domain.replace(/\.$/, "");
  const name = `_mta-sts.${bare}`;
  const answer = await ask(resolver, name, "TXT", findings);
  if (!answer) return done();
  const records = txtStrings(answer).filter(isMtaStsRecord);
  facts.published = records.length > 0;
  if (records.length === 0) {
    if (options.required) findings.push(finding("mta-sts-missing", `${name} has no v=STSv1 record`));
    return done("MTA-STS not published");
  }
  if (records.length > 1) {
    findings.push(
      finding("mta-sts-record-invalid", `${name} has ${records.length} v=STSv1 records: senders use none`),
    );
    return done();
  }
  facts.record = records[0] ?? "";
  const record = parseMtaStsRecord(facts.record);
  if (!record.ok) {
    findings.push(finding("mta-sts-record-invalid", `${name}: ${record.error}`));
    return done();
  }
  facts.id = record.value.id;
  const url = `https://mta-sts.${bare}/.well-known/mta-sts.txt`;
  facts.policyUrl = url;
  const fetchPolicy = options.fetchPolicy ?? createHttpsPolicyFetch(resolver);
  const [fetched, mx] = await Promise.all([
    fetchPolicy({
      url,
      deadline: Date.now() + (options.timeoutMs ?? 10_000),
      maxBytes: POLICY_MAX_BYTES,
      ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
    }).then(
      (response): Fetched => ({ response }),
      (error: unknown): Fetched => ({ error }),
    ),
    ask(resolver, bare, "MX", findings),
  ]);
  const policy = judgeResponse(url, fetched, findings);
  if (!policy) return done();
  facts.policy = policy;
  const notAfter = Date.parse(fetched.response?.certificateNotAfter ?? "");
  if (Number.isFinite(notAfter)) facts.certificateDaysLeft = Math.floor((notAfter - Date.now()) / DAY_MS);
  if (policy.maxAge < SHORT_MAX_AGE_SECONDS) {
    findings.push(
      finding("mta-sts-max-age-short", `${url}: max_age ${policy.maxAge} s is under a day; weeks are usual`),
    );
  }
  if (policy.mode === "none") return done(`MTA-STS mode none (policy withdrawn), id ${facts.id}`);
  if (mx) {
    const hosts = mxRecords(mx)
      .map((entry) => entry.exchange)
      .filter((host) => host !== "" && host !== ".");
    facts.mxHosts = hosts.map((host) => {
      const pattern = policy.mx.find((candidate) => mxMatches(candidate, host));
      return pattern === undefined ? { host } : { host, pattern };
    });
    const uncovered = facts.mxHosts.filter((entry) => entry.pattern === undefined).map((entry) => entry.host);
    if (uncovered.length > 0) {
      const consequence =
        policy.mode === "enforce" ? "senders will refuse to deliver to it" : "senders report it";
      findings.push(
        finding(
          "mta-sts-mx-not-covered",
          `MX ${uncovered.join(", ")} matches no mx: of the policy (${policy.mx.join(", ")}); mode ${policy.mode}: ${consequence}`,
          policy.mode === "enforce" ? "CRITICAL" : "WARNING",
        ),
      );
    }
  }
  return done(`MTA-STS mode ${policy.mode}, max_age ${policy.maxAge}, id ${facts.id}`);
}

type Fetched =
  | { response: PolicyFetchResponse; error?: undefined }
  | { response?: undefined; error: unknown };

/** The policy in a response, or a finding that says why there is none to use. */
function judgeResponse(url: string, fetched: Fetched, findings: PostureFinding[]): MtaStsPolicy | undefined {
  const { response, error } = fetched;
  if (error instanceof DnsQueryError) {
    findings.push(finding("dns-error", `fetching ${url}: ${describeError(error)}`));
    return undefined;
  }
  if (!response) {
    findings.push(finding("mta-sts-policy-unavailable", `${url}: ${describeError(error)}`));
    return undefined;
  }
  if (response.status >= 300 && response.status < 400) {
    const to = response.location ? ` to ${response.location}` : "";
    findings.push(
      finding(
        "mta-sts-policy-unavailable",
        `${url}: HTTP ${response.status} redirect${to}; senders follow no redirects (RFC 8461 §3.3)`,
      ),
    );
    return undefined;
  }
  if (response.status !== 200) {
    findings.push(finding("mta-sts-policy-unavailable", `${url}: HTTP ${response.status}, not 200`));
    return undefined;
  }
  const mediaType = (response.contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "text/plain") {
    findings.push(
      finding(
        "mta-sts-policy-invalid",
        `${url}: served as ${response.contentType ?? "no Content-Type"}, not text/plain (RFC 8461 §3.3)`,
      ),
    );
    return undefined;
  }
  const parsed = parseMtaStsPolicy(response.body);
  if (!parsed.ok) {
    findings.push(finding("mta-sts-policy-invalid", `${url}: ${parsed.error}`));
    return undefined;
  }
  return parsed.value;
}
