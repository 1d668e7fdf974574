import type { ProbeRecord } from "../ports/probe-store.ts";
import type { ScoutEvent } from "./event.ts";
import { roundTripCompletedEvent } from "./roundtrip-completed.ts";
import { type RoundTripThresholds, roundTripStatus } from "./roundtrip-status.ts";
import { announcementEvents, ROUND_TRIP_SUBJECT } from "./status-changed.ts";
import type { StatusTracker } from "./status-tracker.ts";

export interface RoundTripOutcomeInput {
  readonly tracker: StatusTracker;
  readonly customer: string;
  readonly confirmAfter: number;
  /** The probe after its final transition (returned, lost, late, bounced or send-failed). */
  readonly probe: ProbeRecord;
  readonly thresholds: RoundTripThresholds;
  readonly now: number;
}

/**
 * The events one probe outcome gives: roundtrip.completed, then the status.changed of the
 * target's "roundtrip" subject it confirms (if any, after any earlier one still unannounced). The observation is dated by the probe's
 * send time, so the outcome of an older probe (a late return, a lost one swept after newer
 * probes came back) never overrules a newer probe's.
 */
export async function eventsForRoundTrip(input: RoundTripOutcomeInput): Promise<ScoutEvent[]> {
  const { tracker, customer, probe, thresholds, now } = input;
  const { targetId } = probe;
  const events: ScoutEvent[] = [roundTripCompletedEvent({ targetId, customer, now, probe, thresholds })];
  const { status, reason } = roundTripStatus(probe, thresholds);
  const observation = {
    targetId,
    subject: ROUND_TRIP_SUBJECT,
    status,
    reason,
    atMs: probe.sentAtMs,
    confirmAfter: input.confirmAfter,
  };
  events.push(...announcementEvents(customer, await tracker.observe(observation, now)));
  return events;
}
