import { createHash } from "node:crypto";
import type { Status } from "../model/status.ts";
import type { ProbeRecord, ProbeState } from "../ports/probe-store.ts";
import type { ReceiverVerdicts } from "../verdicts/receiver-verdicts.ts";
import type { ScoutEvent } from "./event.ts";
import { EVENT_ID_RANDOM_BYTES, newEventId } from "./event-id.ts";
import { type EnvelopeInput, isoTime, isoTimeOrUndefined, makeEvent } from "./make-event.ts";
import { type RoundTripReason, type RoundTripThresholds, roundTripStatus } from "./roundtrip-status.ts";

export type RoundTripOutcome = Exclude<ProbeState, "sent">;

/** One hop from the returned probe's Received chain; `at` is by that hop's own clock. */
export interface HopSummary {
  readonly from?: string;
  readonly by?: string;
  readonly with?: string;
  readonly at?: string;
}

export type RoundTripCompletedData = {
  readonly probeId: string;
  readonly outcome: RoundTripOutcome;
  readonly status: Status;
  readonly reason: RoundTripReason;
  readonly sentAt: string;
  /** Return arrival minus send time, both by the monitor's clock (returned, late). */
  readonly rttMs?: number;
  readonly returnedAt?: string;
  readonly bounce?: { readonly status?: string; readonly diagnostic?: string };
  /** Why sending failed (send-failed). */
  readonly error?: string;
  /** Informational: the path, and the remote clock's apparent offset; never the metric. */
  readonly hops?: HopSummary[];
  readonly remoteArrivedAt?: string;
  readonly remoteClockOffsetMs?: number;
  /** The remote arrival lay outside send..receipt: that clock is wrong, no offset is given. */
  readonly remoteClockSkewed?: true;
  /** What the receiver said of the delivered probe (returned, late), when it said anything. */
  readonly verdicts?: ReceiverVerdicts;
};

export type RoundTripCompletedEvent = ScoutEvent<"roundtrip.completed", RoundTripCompletedData>;

/**
 * The id of a probe outcome's event: the same each time it is built (from the probe id, the
 * outcome and its time), so an outcome announced again after a crash or a refused queue is
 * one event to the outbox and to consumers, not two.
 */
export function roundTripEventId(probe: Pick<ProbeRecord, "probeId" | "state" | "updatedAtMs">): string {
  const digest = createHash("sha256").update(`${probe.probeId}\u0000${probe.state}`).digest();
  return newEventId(probe.updatedAtMs, digest.subarray(0, EVENT_ID_RANDOM_BYTES));
}

/** One probe's final outcome (returned, lost, late, bounced, send-failed) as an event. */
export function roundTripCompletedEvent(
  input: EnvelopeInput & { readonly probe: ProbeRecord; readonly thresholds: RoundTripThresholds },
): RoundTripCompletedEvent {
  const { probe } = input;
  const { status, reason } = roundTripStatus(probe, input.thresholds);
  const returnedAt = isoTimeOrUndefined(probe.returnedAtMs);
  const remoteArrivedAt = isoTimeOrUndefined(probe.remoteArrivedAtMs);
  const bounce = probe.bounce && {
    ...(probe.bounce.status !== undefined && { status: probe.bounce.status }),
    ...(probe.bounce.diagnostic !== undefined && { diagnostic: probe.bounce.diagnostic }),
  };
  return makeEvent(
    "roundtrip.completed",
    { id: roundTripEventId(probe), ...input },
    {
      probeId: probe.probeId,
      // roundTripStatus has already refused a probe that is still "sent".
      outcome: probe.state as RoundTripOutcome,
      status,
      reason,
      sentAt: isoTime(probe.sentAtMs),
      ...(probe.rttMs !== undefined && { rttMs: probe.rttMs }),
      ...(returnedAt !== undefined && { returnedAt }),
      ...(bounce !== undefined && { bounce }),
      ...(probe.error !== undefined && { error: probe.error }),
      ...(probe.hops !== undefined && { hops: probe.hops.map(hopSummary) }),
      ...(remoteArrivedAt !== undefined && { remoteArrivedAt }),
      ...(probe.remoteClockOffsetMs !== undefined && { remoteClockOffsetMs: probe.remoteClockOffsetMs }),
      ...(probe.remoteClockSkewed === true && { remoteClockSkewed: true as const }),
      ...(probe.verdicts !== undefined && { verdicts: probe.verdicts }),
    },
  );
}

function hopSummary(hop: NonNullable<ProbeRecord["hops"]>[number]): HopSummary {
  const at = isoTimeOrUndefined(hop.atMs);
  return {
    ...(hop.from !== undefined && { from: hop.from }),
    ...(hop.by !== undefined && { by: hop.by }),
    ...(hop.with !== undefined && { with: hop.with }),
    ...(at !== undefined && { at }),
  };
}
