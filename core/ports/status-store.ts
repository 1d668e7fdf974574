import type { Status } from "../model/status.ts";

/**
 * The current status of one subject of a target, with flap control: `status` changes only
 * after `confirmAfter` consecutive results agree; until then the candidate is `pending*`.
 * Subjects: an endpoint URL as written in the config, "roundtrip", or "posture:<check>".
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
  /**
   * Confirmed changes whose status.changed event is not known to be queued yet, oldest first.
   * Saved with the change itself, so a crash or a queue outage between the two never loses the
   * event: it is offered again, with the same id, until its publication is confirmed.
   */
  readonly unannounced?: readonly UnannouncedChange[];
  /**
   * How many times the record was written by replaceStatus (absent or 0: never). The stores
   * set it; the conditional write compares it, since a write may keep `updatedAtMs` as it was
   * (an announcement struck, a late verdict dated like the result before it).
   */
  readonly revision?: number;
}

/** What a confirmed change of one subject's status is (the subject and target aside). */
export interface StatusChangeFacts {
  readonly from: Status;
  readonly to: Status;
  readonly reason: string;
  readonly previousReason: string;
  /** When the new status was confirmed: the time of the last of the agreeing results. */
  readonly sinceMs: number;
  /** How many results in a row confirmed it (the target's confirmAfter). */
  readonly confirmations: number;
}

/** A confirmed change of one subject waiting for its status.changed event to be queued. */
export interface UnannouncedChange extends StatusChangeFacts {
  /** The event's id, fixed when the change was confirmed (consumers dedupe with it). */
  readonly eventId: string;
  /** The event's time: when the change was confirmed, ms since epoch (monitor clock). */
  readonly eventAtMs: number;
}

/** SQLite in local mode, DynamoDB on AWS. */
export interface StatusStore {
  getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined>;
  /**
   * Writes `next` only if the subject's record is still the one read: none (`read` undefined),
   * or the one at `read.revision`; the record written gets the next revision. False when
   * another writer came in between (the prober's sweep and the correlator both observe
   * "roundtrip"): read again and re-apply.
   */
  replaceStatus(next: TrackedStatus, read: TrackedStatus | undefined): Promise<boolean>;
  /**
   * Every tracked subject of every target. `consistent`: see every write completed before the
   * call (a store whose reads always do, SQLite, ignores it; DynamoDB pays double for it).
   */
  listStatuses(options?: { readonly consistent?: boolean }): Promise<TrackedStatus[]>;
}

/** The revision of a record as read (0 for one written before revisions were kept). */
export function revisionOf(status: TrackedStatus | undefined): number {
  return status?.revision ?? 0;
}

/**
 * Whether the stored record (its revision; undefined when there is none) is still the one
 * `read`: the test every replaceStatus makes before it writes.
 */
export function isStillRead(storedRevision: number | undefined, read: TrackedStatus | undefined): boolean {
  return storedRevision === (read === undefined ? undefined : revisionOf(read));
}

/** The record at this revision, the field left out for 0 (as the stores read it back). */
export function atRevision(status: TrackedStatus, revision: number): TrackedStatus {
  const { revision: _previous, ...rest } = status;
  return revision === 0 ? rest : { ...rest, revision };
}
