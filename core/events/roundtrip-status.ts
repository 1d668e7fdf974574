import type { Status } from "../model/status.ts";
import type { ProbeRecord } from "../ports/probe-store.ts";

/** Round-trip times at or above which a returned probe is WARNING / CRITICAL. */
export interface RoundTripThresholds {
  readonly warningMs: number;
  readonly criticalMs: number;
}

/** Reason codes of the "roundtrip" subject. */
export type RoundTripReason = "ok" | "slow" | "late" | "lost" | "bounced" | "send-failed";

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
    case "returned": {
      const rttMs = probe.rttMs ?? 0;
      if (rttMs >= thresholds.criticalMs) return { status: "CRITICAL", reason: "slow" };
      if (rttMs >= thresholds.warningMs) return { status: "WARNING", reason: "slow" };
      return { status: "OK", reason: "ok" };
    }
    case "late":
      return { status: "WARNING", reason: "late" };
    case "lost":
    case "bounced":
    case "send-failed":
      return { status: "CRITICAL", reason: probe.state };
    case "sent":
      throw new Error(`probe ${probe.probeId} is still "sent": only a final outcome has a status`);
  }
}

/**
 * A target's round-trip thresholds: its own probe settings where given, the global
 * `roundTrip` section otherwise (both in seconds in the configuration).
 */
export function roundTripThresholdsOf(
  global: { readonly warningSeconds: number; readonly criticalSeconds: number },
  probe?: { readonly warningSeconds?: number | undefined; readonly criticalSeconds?: number | undefined },
): RoundTripThresholds {
  return {
    warningMs: (probe?.warningSeconds ?? global.warningSeconds) * 1000,
    criticalMs: (probe?.criticalSeconds ?? global.criticalSeconds) * 1000,
  };
}
