import type { Status } from "../model/status.ts";
import type { StatusChangeFacts, TrackedStatus } from "../ports/status-store.ts";

/** A confirmed change of one subject's status: flap control confirms it, the StatusTracker reports it. */
export interface StatusTransition extends StatusChangeFacts {
  readonly targetId: string;
  /** An endpoint URL as written in the configuration, "roundtrip", or "posture:<check>". */
  readonly subject: string;
}

/** One result for one subject, as the tracker sees it. */
export interface Observation {
  readonly targetId: string;
  readonly subject: string;
  readonly status: Status;
  readonly reason: string;
  /** When the result was taken (a check's start, a probe's send time), ms since epoch. */
  readonly atMs: number;
  /** Results in a row a new status needs before it counts (the target's confirmAfter). */
  readonly confirmAfter: number;
}

/** The reason a never-confirmed subject carries while it is assumed OK. */
export const INITIAL_REASON = "initial";

export interface FlapStep {
  /** What to store; undefined when the observation is stale and changes nothing. */
  readonly next?: TrackedStatus;
  readonly transition?: StatusTransition;
}

/**
 * Flap control, as a pure step from the stored status and one observation:
 * - A subject never seen before is assumed OK. An OK first result establishes it silently; a
 *   first result that is not OK is the first of the confirmAfter results it needs, and its
 *   change is reported as from OK (previous reason "initial").
 * - A result with the current status clears any candidate and updates the reason (a reason
 *   change alone is not a status change and reports nothing).
 * - A result with another status is a candidate: confirmAfter of them in a row, with the same
 *   status, make the change (reasons may differ among them; the last one's is kept). Any
 *   result with a different status starts the count afresh. This holds for recovery to OK too.
 * - A result older than the last one seen (updatedAtMs), or as old, is stale and ignored: a
 *   late-arriving verdict on an old probe must not overrule a newer one, and one probe judged
 *   twice (lost, then late or bounced: both dated by its send time) counts once.
 */
export function flapStep(current: TrackedStatus | undefined, observation: Observation): FlapStep {
  const { targetId, subject, status, reason, atMs, confirmAfter } = observation;
  if (!Number.isInteger(confirmAfter) || confirmAfter < 1) {
    throw new RangeError(`confirmAfter must be a whole number of at least 1, got ${confirmAfter}`);
  }
  if (current !== undefined && atMs <= current.updatedAtMs) return {};

  const settled = (next: Status, nextReason: string, sinceMs: number): TrackedStatus => ({
    targetId,
    subject,
    status: next,
    reason: nextReason,
    sinceMs,
    pendingCount: 0,
    updatedAtMs: atMs,
  });

  if (current === undefined && status === "OK") return { next: settled("OK", reason, atMs) };
  const known = current ?? settled("OK", INITIAL_REASON, atMs);
  if (status === known.status) return { next: settled(known.status, reason, known.sinceMs) };

  const count = known.pendingStatus === status ? known.pendingCount + 1 : 1;
  if (count < confirmAfter) {
    return {
      next: {
        ...known,
        pendingStatus: status,
        pendingReason: reason,
        pendingCount: count,
        updatedAtMs: atMs,
      },
    };
  }
  return {
    next: settled(status, reason, atMs),
    transition: {
      targetId,
      subject,
      from: known.status,
      to: status,
      reason,
      previousReason: known.reason,
      sinceMs: atMs,
      confirmations: count,
    },
  };
}
