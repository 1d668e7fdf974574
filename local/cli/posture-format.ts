import { worseStatus } from "../../core/checks/reasons.ts";
import type { Status } from "../../core/model/status.ts";
import { compareFindings, type PostureResult } from "../../core/posture/posture-result.ts";
import type { SpfFacts } from "../../core/posture/spf-check.ts";

const sanitize = (text: string): string => text.replace(/[|\r\n]/g, " ");

/** The worst status of every posture result. */
export const worstPosture = (results: readonly PostureResult[]): Status =>
  results.reduce<Status>((worst, result) => worseStatus(worst, result.status), "OK");

/**
 * Nagios plugin output for the posture checks of one domain: a status line with the worst
 * finding and perfdata (SPF lookups and void lookups against their limits of 10 and 2), then
 * one line per finding, worst first, and one line per check that found nothing wrong.
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
  const spf = results.find((result) => result.check === "spf")?.facts as SpfFacts | undefined;
  const perf = [
    spf?.lookups === undefined ? "" : `spf_lookups=${spf.lookups};;10;0`,
    spf?.voidLookups === undefined ? "" : `spf_void_lookups=${spf.voidLookups};;2;0`,
  ].filter(Boolean);
  const first = `POSTURE ${status} - ${domain}: ${sanitize(summary)}${perf.length > 0 ? ` | ${perf.join(" ")}` : ""}`;
  const more = lines.map((line) => `${line.status} ${line.check} ${line.reason}: ${sanitize(line.message)}`);
  return [first, ...more].join("\n");
}
