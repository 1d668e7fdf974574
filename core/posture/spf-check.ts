import type { DnsResolver } from "../dns/dns-resolver.ts";
import { memoized } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";
import { fetchSpf } from "./spf-fetch.ts";
import type { SpfQualifier, SpfRecord } from "./spf-parse.ts";
import { evaluateSender, type SpfSenderResult } from "./spf-sender.ts";
import { SPF_LOOKUP_LIMIT, SPF_VOID_LOOKUP_LIMIT, walkSpf } from "./spf-walk.ts";

export interface SpfFacts {
  record?: string;
  lookups?: number;
  voidLookups?: number;
  /** The qualifier of the all mechanism that ends the record (after redirects), when there is one. */
  all?: SpfQualifier;
  followed?: string[];
  notFollowed?: string[];
  senderIp?: string;
  senderResult?: SpfSenderResult;
  senderDetail?: string;
}

export interface SpfCheckOptions {
  /** The monitor's outbound IP: would mail from it pass? */
  readonly senderIp?: string;
}

/** SPF posture (RFC 7208): one record, its grammar, its DNS lookups, its all, and the monitor's sender. */
export async function checkSpf(
  resolver: DnsResolver,
  domain: string,
  options: SpfCheckOptions = {},
): Promise<PostureResult<SpfFacts>> {
  const started = Date.now();
  const cached = memoized(resolver);
  const findings: PostureFinding[] = [];
  const facts: SpfFacts = {};
  const done = (okMessage = "") =>
    postureResult({ check: "spf", domain, resolver: resolver.server, started, findings, facts, okMessage });

  const found = await fetchSpf(cached, domain);
  switch (found.kind) {
    case "dns-error":
      findings.push(finding("dns-error", found.message));
      return done();
    case "none":
      findings.push(
        found.nxdomain
          ? finding("domain-missing", `${domain} does not exist (NXDOMAIN)`)
          : finding("spf-missing", `${domain} publishes no v=spf1 record`),
      );
      return done();
    case "multiple":
      findings.push(
        finding("spf-multiple", `${domain} publishes ${found.texts.length} v=spf1 records: permerror`),
      );
      return done();
    case "syntax":
      facts.record = found.text;
      findings.push(finding("spf-syntax", `${domain}: ${found.error}`));
      return done();
  }
  facts.record = found.text;
  const walk = await walkSpf(cached, domain, found.record);
  facts.lookups = walk.lookups;
  facts.voidLookups = walk.voidLookups;
  facts.followed = walk.followed;
  if (walk.notFollowed.length > 0) facts.notFollowed = walk.notFollowed;
  findings.push(...walk.findings);
  if (walk.lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding("spf-too-many-lookups", `${walk.lookups} DNS-querying terms, over the limit of 10: permerror`),
    );
  }
  if (walk.voidLookups > SPF_VOID_LOOKUP_LIMIT) {
    findings.push(
      finding(
        "spf-void-lookups",
        `${walk.voidLookups} lookups found nothing, over the limit of 2: permerror`,
      ),
    );
  }
  const all = await finalAll(cached, found.record);
  if (all) facts.all = all;
  if (all === "+") findings.push(finding("spf-pass-all", `${domain}'s SPF ends in +all: any host passes`));
  if (all === "?")
    findings.push(finding("spf-neutral-all", `${domain}'s SPF ends in ?all: other hosts are neutral`));
  if (all === undefined)
    findings.push(finding("spf-no-all", `${domain}'s SPF has no all mechanism: other hosts are neutral`));

  if (options.senderIp !== undefined) {
    facts.senderIp = options.senderIp;
    const verdict = await evaluateSender(cached, domain, found.record, options.senderIp);
    facts.senderResult = verdict.result;
    facts.senderDetail = verdict.detail;
    const says = `sender ${options.senderIp} would get ${verdict.result} (${verdict.detail})`;
    if (verdict.result === "fail") findings.push(finding("spf-sender-not-pass", says, "CRITICAL"));
    if (verdict.result === "softfail" || verdict.result === "neutral" || verdict.result === "none") {
      findings.push(finding("spf-sender-not-pass", says, "WARNING"));
    }
    if (verdict.result === "temperror") findings.push(finding("dns-error", says));
    if (verdict.result === "permerror" && findings.every((f) => f.status !== "CRITICAL")) {
      findings.push(finding("spf-syntax", says));
    }
  }
  const sender = facts.senderResult ? `; sender ${facts.senderIp} ${facts.senderResult}` : "";
  return done(`SPF ${walk.lookups}/10 lookups, ${all ?? "no "}all${sender}`);
}

/** The all that ends evaluation: the record's own, or the one at the end of its redirects. */
async function finalAll(
  resolver: DnsResolver,
  record: SpfRecord,
  depth = 0,
): Promise<SpfQualifier | undefined> {
  const all = record.mechanisms.find((mechanism) => mechanism.kind === "all");
  if (all) return all.qualifier;
  if (record.redirect === undefined || depth > 10) return undefined;
  const target = await fetchSpf(resolver, record.redirect);
  return target.kind === "record" ? finalAll(resolver, target.record, depth + 1) : undefined;
}
