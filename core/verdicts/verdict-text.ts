import type { ReceiverVerdicts } from "./receiver-verdicts.ts";

/**
 * The verdicts in one short line for a terminal or a Nagios text: "in junk Junk, spf pass, dkim
 * none, dmarc fail (p=reject), spam: spamassassin 7.1/5"; "no verdicts" when there are none.
 */
export function verdictText(verdicts: ReceiverVerdicts): string {
  const parts: string[] = [];
  if (verdicts.folder !== undefined)
    parts.push(`in ${verdicts.folder.junk ? "junk " : ""}${verdicts.folder.name}`);
  for (const method of ["spf", "dkim", "dmarc", "arc"] as const) {
    const verdict = verdicts[method];
    if (verdict === undefined) continue;
    const why =
      method === "dmarc" && verdict.result === "fail" && verdict.reason ? ` (${verdict.reason})` : "";
    parts.push(`${method} ${verdict.result}${why}`);
  }
  const spam = verdicts.spam.find((entry) => entry.verdict === "spam") ?? verdicts.spam[0];
  if (spam !== undefined) {
    const score =
      spam.score === undefined
        ? ""
        : ` ${spam.score}${spam.threshold === undefined ? "" : `/${spam.threshold}`}`;
    const scl = spam.scl === undefined ? "" : ` SCL ${spam.scl}`;
    parts.push(`${spam.verdict === "spam" ? "spam" : `${spam.verdict}`}: ${spam.filter}${score}${scl}`);
  }
  return parts.length === 0 ? "no verdicts" : parts.join(", ");
}
