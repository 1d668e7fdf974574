import type { Status } from "../model/status.ts";
import type { ProbeRecord } from "../ports/probe-store.ts";
import { judgedSpam } from "../verdicts/receiver-verdicts.ts";

/** Round-trip times at or above which a returned probe is WARNING / CRITICAL, and what spam is. */
export interface RoundTripThresholds {
  readonly warningMs: number;
  readonly criticalMs: number;
  /** The status of a delivered probe the receiver judged spam (`probe.junkStatus`); WARNING when absent. */
  readonly junkStatus?: Status;
}

/** Reason codes of the "roundtrip" subject. */
export type RoundTripReason =
  | "ok"
  | "slow"
  | "late"
  | "lost"
  | "bounced"
  | "send-failed"
  /** Fetch mode: the probe was found in the junk folder. */
  | "landed-in-junk"
  /** The receiver's spam filter judged the probe spam. */
  | "spam-verdict"
  /** The receiver's DMARC evaluation of the probe failed. */
  | "dmarc-fail";

/** Worst first: of two findings the worse one names the status and its reason. */
const SEVERITY: Readonly<Record<Status, number>> = { CRITICAL: 3, WARNING: 2, UNKNOWN: 1, OK: 0 };

export interface RoundTripVerdict {
  readonly status: Status;
  readonly reason: RoundTripReason;
}

/**
 * The status a probe's outcome gives the target's mail flow. A late return is WARNING, not
 * OK: the mail did flow, but past the deadline. Only final outcomes have a status: a probe
 * still "sent" is a caller's mistake.
 */
export function roundTripStatus(probe: ProbeRecord, thresholds: RoundTripThresholds): RoundTripVerdict {
  switch (probe.state) {
    case "returned":
      return worstOf(timeStatus(probe.rttMs ?? 0, thresholds), verdictFindings(probe, thresholds));
    case "late":
      return worstOf({ status: "WARNING", reason: "late" }, verdictFindings(probe, thresholds));
    case "lost":
    case "bounced":
    case "send-failed":
      return { status: "CRITICAL", reason: probe.state };
    case "sent":
      throw new Error(`probe ${probe.probeId} is still "sent": only a final outcome has a status`);
  }
}

function timeStatus(rttMs: number, thresholds: RoundTripThresholds): RoundTripVerdict {
  if (rttMs >= thresholds.criticalMs) return { status: "CRITICAL", reason: "slow" };
  if (rttMs >= thresholds.warningMs) return { status: "WARNING", reason: "slow" };
  return { status: "OK", reason: "ok" };
}

/**
 * What the receiver's verdicts say about a delivered probe: found in the junk folder (fetch
 * mode) or judged spam is `junkStatus` (WARNING unless configured), a DMARC fail is WARNING: the mail flowed, but a receiver with a
 * stricter policy, or this one tomorrow, may not deliver it.
 */
function verdictFindings(probe: ProbeRecord, thresholds: RoundTripThresholds): RoundTripVerdict[] {
  const { verdicts } = probe;
  if (verdicts === undefined) return [];
  const findings: RoundTripVerdict[] = [];
  const junkStatus = thresholds.junkStatus ?? "WARNING";
  // The folder is what the user sees; a filter's word is why. One finding, the folder's first.
  if (verdicts.folder?.junk === true) findings.push({ status: junkStatus, reason: "landed-in-junk" });
  else if (judgedSpam(verdicts)) findings.push({ status: junkStatus, reason: "spam-verdict" });
  if (verdicts.dmarc?.result === "fail") findings.push({ status: "WARNING", reason: "dmarc-fail" });
  return findings;
}

/** The worst of the findings; on a tie the first (the time's verdict comes first). */
function worstOf(first: RoundTripVerdict, rest: readonly RoundTripVerdict[]): RoundTripVerdict {
  return rest.reduce((worst, next) => (SEVERITY[next.status] > SEVERITY[worst.status] ? next : worst), first);
}

/**
 * A target's round-trip thresholds: its own probe settings where given, the global
 * `roundTrip` section otherwise (both in seconds in the configuration).
 */
export function roundTripThresholdsOf(
  global: { readonly warningSeconds: number; readonly criticalSeconds: number },
  probe?: {
    readonly warningSeconds?: number | undefined;
    readonly criticalSeconds?: number | undefined;
    readonly junkStatus?: Status | undefined;
  },
): RoundTripThresholds {
  return {
    warningMs: (probe?.warningSeconds ?? global.warningSeconds) * 1000,
    criticalMs: (probe?.criticalSeconds ?? global.criticalSeconds) * 1000,
    ...(probe?.junkStatus !== undefined && { junkStatus: probe.junkStatus }),
  };
}
