import { both, statusChanges } from "../expect.ts";
import { type Fault, healthyAgain, type Verdict } from "../fault.ts";
import { flushPostfixQueue, queuedRecipients } from "../mail-host.ts";
import type { Window } from "../recorder.ts";

/**
 * What a fault that makes Postfix defer mail must show: the round trip goes CRITICAL lost while
 * mail to `recipient` waits in Postfix's queue; once fixed, the queue is flushed before every
 * recovery cycle and each lost probe must come back late.
 */
export function queuedAtPostfix(
  recipient: string,
  /** What the queued mail is, for the report: "probe(s) deferred", "return(s) queued". */
  queuedMail: string,
): Pick<Fault, "beforeRecoveryCycle" | "detected" | "recovered"> {
  return {
    async beforeRecoveryCycle() {
      flushPostfixQueue();
    },
    detected(window) {
      const queued = queuedRecipients().filter((q) => q.recipient === recipient);
      const verdict = statusChanges(window, [{ subjects: ["roundtrip"], to: "CRITICAL", reasons: ["lost"] }]);
      return {
        ...verdict,
        met: verdict.met && queued.length > 0,
        observed: `${verdict.observed}; ${queued.length} ${queuedMail} at Postfix${queued[0] ? ` (${queued[0].reason})` : ""}`,
      };
    },
    recovered: (after, harness, during) =>
      both(lostComeBackLate(after, during), healthyAgain(after, harness)),
  };
}

/** Every probe counted lost while the fault was in place must come back late: none stays lost. */
export function lostComeBackLate(after: Window, during: Window): Verdict {
  const lost = during.roundTrips.filter((r) => r.outcome === "lost").map((r) => r.probeId);
  const late = after.roundTrips.filter((r) => r.outcome === "late" && lost.includes(r.probeId));
  const missing = lost.filter((id) => !late.some((r) => r.probeId === id));
  return {
    met: missing.length === 0,
    observed: `${late.length}/${lost.length} lost probe(s) came back late`,
    atMs: Math.max(0, ...late.map((r) => r.atMs)),
  };
}
