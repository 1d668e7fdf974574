import type { BounceFacts, Hop, ProbeRecord, ProbeState } from "../../core/ports/probe-store.ts";
import type { ReceiverVerdicts } from "../../core/verdicts/receiver-verdicts.ts";

/* A probe as the probes table stores it, and the way back to the port's ProbeRecord. */

export interface ProbeRow {
  probe_id: string;
  target_id: string;
  to_address: string;
  message_id: string;
  sent_at_ms: number;
  deadline_ms: number;
  state: ProbeState;
  updated_at_ms: number;
  returned_at_ms: number | null;
  rtt_ms: number | null;
  remote_arrived_at_ms: number | null;
  remote_clock_offset_ms: number | null;
  remote_clock_skewed: number | null;
  hops_json: string | null;
  verdicts_json: string | null;
  bounce_json: string | null;
  folder: "inbox" | "junk" | null;
  error: string | null;
}

export const PROBE_COLUMNS = `probe_id, target_id, to_address, message_id, sent_at_ms, deadline_ms, state,
  updated_at_ms, returned_at_ms, rtt_ms, remote_arrived_at_ms, remote_clock_offset_ms,
  remote_clock_skewed, hops_json, verdicts_json, bounce_json, folder, error`;

/** The record a row holds; absent facts are left out, not undefined. */
export function toRecord(row: ProbeRow): ProbeRecord {
  return {
    probeId: row.probe_id,
    targetId: row.target_id,
    toAddress: row.to_address,
    messageId: row.message_id,
    sentAtMs: row.sent_at_ms,
    deadlineMs: row.deadline_ms,
    state: row.state,
    updatedAtMs: row.updated_at_ms,
    ...(row.returned_at_ms !== null && { returnedAtMs: row.returned_at_ms }),
    ...(row.rtt_ms !== null && { rttMs: row.rtt_ms }),
    ...(row.remote_arrived_at_ms !== null && { remoteArrivedAtMs: row.remote_arrived_at_ms }),
    ...(row.remote_clock_offset_ms !== null && { remoteClockOffsetMs: row.remote_clock_offset_ms }),
    ...(row.remote_clock_skewed !== null && { remoteClockSkewed: row.remote_clock_skewed === 1 }),
    ...(row.hops_json !== null && { hops: JSON.parse(row.hops_json) as Hop[] }),
    ...(row.verdicts_json !== null && { verdicts: JSON.parse(row.verdicts_json) as ReceiverVerdicts }),
    ...(row.bounce_json !== null && { bounce: JSON.parse(row.bounce_json) as BounceFacts }),
    ...(row.folder !== null && { folder: row.folder }),
    ...(row.error !== null && { error: row.error }),
  };
}
