import { txtStrings } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { ask } from "./posture-dns.ts";
import { finding, type PostureResult, postureRun } from "./posture-result.ts";
import { isTlsRptRecord, parseTlsRpt } from "./tls-rpt-parse.ts";

export interface TlsRptFacts {
  published?: boolean;
  record?: string;
  rua?: string[];
}

export interface TlsRptCheckOptions {
  /** A missing record is a finding (WARNING), not "not published" (OK). */
  readonly required?: boolean;
}

/** TLS-RPT posture (RFC 8460): one v=TLSRPTv1 record at _smtp._tls.<domain>, and its report URIs. */
export async function checkTlsRpt(
  resolver: DnsResolver,
  domain: string,
  options: TlsRptCheckOptions = {},
): Promise<PostureResult<TlsRptFacts>> {
  const facts: TlsRptFacts = {};
  const { findings, done } = postureRun("tls-rpt", domain, resolver, facts);
  const name = `_smtp._tls.${domain.replace(/\.$/, "")}`;
  const answer = await ask(resolver, name, "TXT", findings);
  if (!answer) return done();
  const records = txtStrings(answer).filter(isTlsRptRecord);
  facts.published = records.length > 0;
  if (records.length === 0) {
    if (options.required) findings.push(finding("tls-rpt-missing", `${name} has no v=TLSRPTv1 record`));
    return done("TLS-RPT not published");
  }
  if (records.length > 1) {
    findings.push(
      finding(
        "tls-rpt-multiple",
        `${name} has ${records.length} v=TLSRPTv1 records: senders send no reports`,
      ),
    );
    return done();
  }
  const text = records[0] ?? "";
  facts.record = text;
  const parsed = parseTlsRpt(text);
  if (!parsed.ok) {
    findings.push(finding("tls-rpt-syntax", `${name}: ${parsed.error}`));
    return done();
  }
  facts.rua = parsed.record.rua;
  return done(`TLS-RPT reports to ${parsed.record.rua.join(",")}`);
}
