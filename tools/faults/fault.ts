import type { Harness } from "./harness.ts";
import type { Window } from "./recorder.ts";

/** Whether an expectation holds over what was recorded, and what was seen. */
export interface Verdict {
  readonly met: boolean;
  /** What was observed, in a few words, for the report. */
  readonly observed: string;
  /** When the last event the expectation needed was recorded (ms since epoch). */
  readonly atMs?: number;
  /** Things that must not happen and did (they fail the fault even when `met`). */
  readonly problems?: readonly string[];
}

/** One fault: how to cause it on the real host, how to undo it, and what the monitor must say. */
export interface Fault {
  /** Short id, used by --only and as the test name. */
  readonly id: string;
  /** The report's "fault" column. */
  readonly title: string;
  /** The report's "expected" column. */
  readonly expected: string;
  inject(harness: Harness): Promise<void>;
  /** Undoes the fault. Always runs (finally); `scripts/demo-mailhost.sh up` backs it up. */
  restore(harness: Harness): Promise<void>;
  /** Checked after every cycle from the injection on. */
  detected(window: Window, harness: Harness): Verdict | Promise<Verdict>;
  /**
   * Checked after every cycle from the restore on (`during` is what was recorded while the
   * fault was in place); the default is `healthyAgain`.
   */
  recovered?(after: Window, harness: Harness, during: Window): Verdict | Promise<Verdict>;
  /** Cycles allowed to detect; default confirmAfter + 1 ("within one cycle after flap control"). */
  readonly detectCycles?: number;
  /**
   * Cycles the fault stays in place at least, even once detected (an outage "for a while");
   * default 1.
   */
  readonly minCycles?: number;
  /** Cycles allowed to recover; default confirmAfter + 1. */
  readonly recoverCycles?: number;
  /**
   * Runs after the restore, before every recovery cycle: e.g. flush Postfix's queue so
   * deferred mail is retried now instead of after its backoff.
   */
  beforeRecoveryCycle?(harness: Harness): Promise<void>;
}

/**
 * The default recovery: every subject's confirmed status is OK again (each one that changed
 * went back with a recovery event), and a probe sent after the fix came back returned.
 */
export function healthyAgain(window: Window, harness: Harness): Verdict {
  const notOk = harness.recorder.notOk();
  const returned = window.roundTrips.find((r) => r.outcome === "returned" && r.status === "OK");
  const recoveries = window.changes.filter((c) => c.to === "OK");
  const atMs = Math.max(returned?.atMs ?? 0, ...recoveries.map((c) => c.atMs));
  const parts = [
    recoveries.length > 0 ? `${recoveries.length} subject(s) back to OK` : "no status to recover",
    returned ? "probe returned" : "no probe returned yet",
  ];
  if (notOk.length > 0) parts.push(`still not OK: ${notOk.map(shortSubject).join(", ")}`);
  return { met: notOk.length === 0 && returned !== undefined, observed: parts.join("; "), atMs };
}

/** "imaps://127.0.0.1" -> "imaps"; "roundtrip" stays. */
export function shortSubject(subject: string): string {
  return subject.replace(/:\/\/.*$/, "");
}
