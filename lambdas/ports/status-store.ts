import type { Status } from "../checks/reasons.ts";

/**
 * The current status of one subject of a target, with flap control: `status` changes only
 * after `confirmAfter` consecutive results agree; until then the candidate is `pending*`.
 * Subjects: an endpoint URL as written in the config, or "roundtrip".
 */
export interface TrackedStatus {
  readonly targetId: string;
  readonly subject: string;
  readonly status: Status;
  readonly reason: string;
  /** Since when `status` holds, ms since epoch. */
  readonly sinceMs: number;
  readonly pendingStatus?: Status;
  readonly pendingReason?: string;
  /** Consecutive results agreeing with pendingStatus so far. */
  readonly pendingCount: number;
  readonly updatedAtMs: number;
}

/** SQLite in local mode, DynamoDB on AWS. */
export interface StatusStore {
  getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined>;
  putStatus(status: TrackedStatus): Promise<void>;
  /** Every tracked subject of every target. */
  listStatuses(): Promise<TrackedStatus[]>;
}
