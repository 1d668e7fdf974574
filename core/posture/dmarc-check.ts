import { txtStrings } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { aligned, type DmarcRecord, isDmarcRecord, parseDmarc } from "./dmarc-parse.ts";
import { ask } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";

export interface DmarcFacts {
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

/** DMARC posture (RFC 7489): one record at _dmarc.<domain>, its grammar, its policy, alignment. */
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
  const name = `_dmarc.${domain.replace(/\.$/, "")}`;
  const answer = await ask(resolver, name, "TXT", findings);
  if (!answer) return done();
  const strings = txtStrings(answer);
  const records = strings.filter(isDmarcRecord);
  if (records.length === 0) {
    const misplaced = strings.find((text) => /\bv\s*=\s*DMARC1\b/.test(text));
    findings.push(
      misplaced
        ? finding("dmarc-syntax", `${name}: v=DMARC1 must be the first tag ("${misplaced}")`)
        : finding("dmarc-missing", `${name} has no v=DMARC1 record`),
    );
    return done();
  }
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
  if (policy.p === "none")
    findings.push(finding("dmarc-monitoring-only", `${name}: p=none, monitoring only`));
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
  return done(`DMARC p=${policy.p}${policy.pct < 100 ? ` pct=${policy.pct}` : ""}${reports}`);
}
