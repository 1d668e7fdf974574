import { txtStrings } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { aligned, type DmarcRecord, isDmarcRecord, parseDmarc } from "./dmarc-parse.ts";
import { organizationalDomain } from "./organizational-domain.ts";
import { ask } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";

export interface DmarcFacts {
  /** The domain whose record applies: the checked one, or its organizational domain (RFC 7489 §6.6.3). */
  recordDomain?: string;
  record?: string;
  policy?: DmarcRecord;
  fromDomain?: string;
  /** Whether the From domain aligns with the checked domain under aspf and adkim. */
  spfAligned?: boolean;
  dkimAligned?: boolean;
}

export interface DmarcCheckOptions {
  /** The From domain of the monitor's probes: does it align with the domain? */
  readonly fromDomain?: string;
}

/**
 * DMARC posture (RFC 7489): one record at _dmarc.<domain>, or when there is none at the
 * organizational domain's _dmarc (§6.6.3, whose sp= then applies), its grammar, policy, alignment.
 */
export async function checkDmarc(
  resolver: DnsResolver,
  domain: string,
  options: DmarcCheckOptions = {},
): Promise<PostureResult<DmarcFacts>> {
  const started = Date.now();
  const findings: PostureFinding[] = [];
  const facts: DmarcFacts = {};
  const done = (okMessage = "") =>
    postureResult({ check: "dmarc", domain, resolver: resolver.server, started, findings, facts, okMessage });
  const bare = domain.replace(/\.$/, "").toLowerCase();
  let name = `_dmarc.${bare}`;
  const answer = await ask(resolver, name, "TXT", findings);
  if (!answer) return done();
  let strings = txtStrings(answer);
  let records = strings.filter(isDmarcRecord);
  const misplacedIn = (texts: string[]) => texts.find((text) => /\bv\s*=\s*DMARC1\b/.test(text));
  const organizational = organizationalDomain(bare);
  let recordDomain = bare;
  if (records.length === 0 && !misplacedIn(strings) && organizational !== bare) {
    const fallback = await ask(resolver, `_dmarc.${organizational}`, "TXT", findings);
    if (!fallback) return done();
    name = `_dmarc.${organizational}`;
    recordDomain = organizational;
    strings = txtStrings(fallback);
    records = strings.filter(isDmarcRecord);
  }
  if (records.length === 0) {
    const misplaced = misplacedIn(strings);
    const missing =
      recordDomain === bare
        ? `${name} has no v=DMARC1 record`
        : `neither _dmarc.${bare} nor ${name} (its organizational domain) has a v=DMARC1 record`;
    findings.push(
      misplaced
        ? finding("dmarc-syntax", `${name}: v=DMARC1 must be the first tag ("${misplaced}")`)
        : finding("dmarc-missing", missing),
    );
    return done();
  }
  facts.recordDomain = recordDomain;
  if (records.length > 1) {
    findings.push(
      finding("dmarc-multiple", `${name} has ${records.length} v=DMARC1 records: receivers apply none`),
    );
    return done();
  }
  const text = records[0] ?? "";
  facts.record = text;
  const parsed = parseDmarc(text);
  if (!parsed.ok) {
    findings.push(finding("dmarc-syntax", `${name}: ${parsed.error}`));
    return done();
  }
  const policy = parsed.record;
  facts.policy = policy;
  // Under the organizational domain's record a subdomain gets sp= (RFC 7489 §6.6.3).
  const inherited = recordDomain !== bare;
  const applied = inherited ? policy.sp : policy.p;
  if (applied === "none") {
    const tag = inherited ? `sp=none applies to ${bare}` : "p=none";
    findings.push(finding("dmarc-monitoring-only", `${name}: ${tag}, monitoring only`));
  }
  if (options.fromDomain !== undefined) {
    facts.fromDomain = options.fromDomain;
    facts.spfAligned = aligned(options.fromDomain, domain, policy.aspf);
    facts.dkimAligned = aligned(options.fromDomain, domain, policy.adkim);
    if (!facts.spfAligned) {
      const mode = policy.aspf === "s" ? "strict" : "relaxed";
      findings.push(
        finding(
          "dmarc-not-aligned",
          `From ${options.fromDomain} does not align with ${domain} (aspf ${mode})`,
        ),
      );
    }
  }
  const reports = policy.rua.length > 0 ? `, reports to ${policy.rua.join(",")}` : ", no aggregate reports";
  const from = inherited ? ` (the record of ${recordDomain}: sp=${policy.sp})` : "";
  return done(`DMARC p=${policy.p}${policy.pct < 100 ? ` pct=${policy.pct}` : ""}${reports}${from}`);
}
