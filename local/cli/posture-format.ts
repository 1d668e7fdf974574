import { worseStatus } from "../../core/checks/reasons.ts";
import type { Status } from "../../core/model/status.ts";
import type { DnsblFacts } from "../../core/posture/dnsbl-check.ts";
import type { MtaStsFacts } from "../../core/posture/mta-sts-check.ts";
import { compareFindings, type PostureResult } from "../../core/posture/posture-result.ts";
import type { SpfFacts } from "../../core/posture/spf-check.ts";

const sanitize = (text: string): string => text.replace(/[|\r\n]/g, " ");

/** The worst status of every posture result. */
export const worstPosture = (results: readonly PostureResult[]): Status =>
  results.reduce<Status>((worst, result) => worseStatus(worst, result.status), "OK");

/**
 * Nagios plugin output for the posture checks of one domain: a status line with the worst
 * finding and perfdata (SPF lookups and void lookups against their limits of 10 and 2, the
 * days left on the MTA-STS policy host's certificate and the policy's max_age in days, the blocklist listings), then one line
 * per finding, worst first, and one line per check that found nothing wrong.
 */
export function formatPosture(domain: string, results: readonly PostureResult[]): string {
  const status = worstPosture(results);
  const lines = results
    .flatMap((result) =>
      result.findings.length === 0
        ? [{ check: result.check, status: result.status, reason: result.reason, message: result.message }]
        : result.findings.map((found) => ({ check: result.check, ...found })),
    )
    .sort(compareFindings);
  const worst = lines[0];
  const summary =
    status === "OK" || worst === undefined
      ? results.map((result) => result.message).join("; ")
      : `${worst.check} ${worst.reason}: ${worst.message}`;
  const facts = <F>(check: string) =>
    results.find((result) => result.check === check)?.facts as F | undefined;
  const spf = facts<SpfFacts>("spf");
  const mtaSts = facts<MtaStsFacts>("mta-sts");
  const dnsbl = facts<DnsblFacts>("dnsbl");
  const perf = [
    spf?.lookups === undefined ? "" : `spf_lookups=${spf.lookups};;10;0`,
    spf?.voidLookups === undefined ? "" : `spf_void_lookups=${spf.voidLookups};;2;0`,
    mtaSts?.certificateDaysLeft === undefined ? "" : `mta_sts_cert_days=${mtaSts.certificateDaysLeft}`,
    // How long senders keep the policy they fetched: what a broken policy host is cushioned by.
    mtaSts?.policy === undefined ? "" : `mta_sts_max_age_days=${Math.floor(mtaSts.policy.maxAge / 86_400)}`,
    dnsbl?.lookups === undefined ? "" : `dnsbl_listings=${dnsbl.listings};;;0`,
  ].filter(Boolean);
  const first = `POSTURE ${status} - ${domain}: ${sanitize(summary)}${perf.length > 0 ? ` | ${perf.join(" ")}` : ""}`;
  const more = lines.map((line) => `${line.status} ${line.check} ${line.reason}: ${sanitize(line.message)}`);
  return [first, ...more].join("\n");
}
