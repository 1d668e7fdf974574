import { Gauge, type Registry } from "prom-client";
import { judgedSpam } from "../../core/verdicts/receiver-verdicts.ts";
import type { Board } from "./board.ts";

/**
 * The receiver's verdicts on each target's newest delivered probe (within the board's window):
 *   email_scout_roundtrip_verdict{target, check="spf"|"dkim"|"dmarc"|"arc"|"spam"|"folder", result} 1
 *   email_scout_roundtrip_judged_spam{target} 0|1
 * One series per check holds the newest result, so `email_scout_roundtrip_verdict{check="dmarc",
 * result="fail"} == 1` is an alert rule. A target whose receiver wrote no verdicts has none.
 */
export function addVerdictGauges(board: Board, registers: Registry[]): void {
  const verdict = new Gauge({
    name: "email_scout_roundtrip_verdict",
    help: "The receiver's verdict on the newest delivered probe, by check (spf, dkim, dmarc, arc, spam, folder) and result; 1 for the result it gave.",
    labelNames: ["target", "check", "result"],
    registers,
  });
  const spam = new Gauge({
    name: "email_scout_roundtrip_judged_spam",
    help: "1 when a spam filter at the receiver judged the newest delivered probe spam, else 0.",
    labelNames: ["target"],
    registers,
  });
  for (const target of board.targets) {
    const verdicts = target.rows.find((row) => row.kind === "roundtrip")?.lastVerdicts?.verdicts;
    if (verdicts === undefined) continue;
    for (const check of ["spf", "dkim", "dmarc", "arc"] as const) {
      const result = verdicts[check]?.result;
      if (result !== undefined) verdict.set({ target: target.id, check, result }, 1);
    }
    const spamResult = judgedSpam(verdicts)
      ? "spam"
      : verdicts.spam.some((entry) => entry.verdict === "ham")
        ? "ham"
        : verdicts.spam.length > 0
          ? "unknown"
          : undefined;
    if (spamResult !== undefined) verdict.set({ target: target.id, check: "spam", result: spamResult }, 1);
    const folder = verdicts.folder;
    if (folder !== undefined) {
      verdict.set({ target: target.id, check: "folder", result: folder.junk ? "junk" : "inbox" }, 1);
    }
    spam.set({ target: target.id }, judgedSpam(verdicts) ? 1 : 0);
  }
}
