import type { Status } from "../model/status.ts";
import type { StatusStore, TrackedStatus, UnannouncedChange } from "../ports/status-store.ts";
import type { ScoutEvent } from "./event.ts";
import { newEventId } from "./event-id.ts";
import { flapStep, type Observation, type StatusTransition } from "./flap-control.ts";

const DAY_MS = 86_400_000;
const CERTIFICATE_PREFIX = "cert:";
/**
 * Unannounced changes kept per subject: a queue down for many cycles of a flapping subject
 * keeps the newest ones (each is a whole change, the last one tells the current state).
 */
export const MAX_UNANNOUNCED = 16;
/** Conditional writes of one result that may find the record changed before giving up. */
const MAX_CONFLICTS = 5;
/** A reminder bookkeeping time before any day: the next claim succeeds. */
const NEVER_REMINDED = 0;

interface ReminderClaim {
  readonly targetId: string;
  readonly subject: string;
  /** The bookkeeping record before the claim, if there was one. */
  readonly previous: TrackedStatus | undefined;
  readonly claimed: TrackedStatus;
}

/** A confirmed change to announce as status.changed, with the event id and time it was given. */
export interface StatusAnnouncement {
  readonly eventId: string;
  readonly eventAtMs: number;
  readonly transition: StatusTransition;
}

/**
 * Status bookkeeping over the StatusStore port: flap control per subject (see flapStep), and
 * the once-a-day gate for certificate reminders. Observations of one subject are applied one
 * at a time within this process; across processes (the prober's sweep and the correlator, on
 * "roundtrip") every write is conditional on the record read (replaceStatus), and a result
 * whose record changed in between is applied again to the new one: no count is lost, and one
 * change is confirmed once.
 *
 * A confirmed change is saved together with its announcement (event id and time) in the
 * status record, and stays there until `settle` hears that its event was queued. Whoever
 * observes the subject next (this process, or another after a crash or a queue outage) is
 * offered it again, with the same id: at least once, never lost.
 */
export class StatusTracker {
  private readonly tails = new Map<string, Promise<void>>();
  /** Announcements offered by this process and not yet settled: not offered twice meanwhile. */
  private readonly offered = new Map<string, { targetId: string; subject: string }>();
  /** Certificate reminders claimed for an event not yet settled, by the event's id. */
  private readonly claims = new Map<string, ReminderClaim>();

  constructor(private readonly store: StatusStore) {}

  /**
   * Applies one result. Returns the changes to announce now: any earlier ones still
   * unannounced (and not offered already by this process), then the one this result confirms.
   * Each returned announcement must be settled once its event was published or not.
   */
  observe(observation: Observation, nowMs: number = observation.atMs): Promise<StatusAnnouncement[]> {
    const { targetId, subject } = observation;
    return this.oneAtATime(targetId, subject, async () => {
      let waiting: readonly UnannouncedChange[] = [];
      await this.update(targetId, subject, (current) => {
        const { next, transition } = flapStep(current, observation);
        waiting = current?.unannounced ?? [];
        if (transition !== undefined) {
          const change = unannouncedChange(transition, newEventId(nowMs), nowMs);
          waiting = [...waiting, change].slice(-MAX_UNANNOUNCED);
        }
        return next === undefined ? undefined : withUnannounced(next, waiting);
      });
      const offer = waiting.filter((change) => !this.offered.has(change.eventId));
      for (const change of offer) this.offered.set(change.eventId, { targetId, subject });
      return offer.map((change) => announcementOf(targetId, subject, change));
    });
  }

  /**
   * After publishing (see trackedEventIds): the announcements with these event ids are removed
   * from their status records (`published`), or left there to be offered again by the next
   * observation (not published); a certificate reminder claimed for an event that was not
   * published is given back, so the next result claims it again. Ids this tracker never
   * handed out are ignored. A failure to update a record is thrown after all are tried; an
   * announcement is then offered again (a duplicate with the same event id, never a lost one).
   */
  async settle(eventIds: readonly string[], published: boolean): Promise<void> {
    await allOrFirstError([
      this.settleAnnouncements(eventIds, published),
      this.settleClaims(eventIds, published),
    ]);
  }

  private async settleAnnouncements(eventIds: readonly string[], published: boolean): Promise<void> {
    const bySubject = new Map<string, { targetId: string; subject: string; ids: Set<string> }>();
    for (const eventId of eventIds) {
      const where = this.offered.get(eventId);
      if (where === undefined) continue;
      const key = `${where.targetId}\u0000${where.subject}`;
      const group = bySubject.get(key) ?? { ...where, ids: new Set<string>() };
      group.ids.add(eventId);
      bySubject.set(key, group);
    }
    await allOrFirstError(
      [...bySubject.values()].map((group) =>
        this.oneAtATime(group.targetId, group.subject, async () => {
          try {
            if (published) await this.clear(group.targetId, group.subject, group.ids);
          } finally {
            for (const eventId of group.ids) this.offered.delete(eventId);
          }
        }),
      ),
    );
  }

  private async settleClaims(eventIds: readonly string[], published: boolean): Promise<void> {
    const claims = eventIds.flatMap((eventId) => {
      const claim = this.claims.get(eventId);
      this.claims.delete(eventId);
      return claim === undefined ? [] : [claim];
    });
    if (published) return;
    await allOrFirstError(
      claims.map(({ targetId, subject, previous, claimed }) =>
        this.oneAtATime(targetId, subject, () =>
          this.update(targetId, subject, (current) =>
            // Only the claim itself is undone; a claim made since (another process) stays.
            current?.updatedAtMs === claimed.updatedAtMs && current.sinceMs === claimed.sinceMs
              ? (previous ?? { ...claimed, sinceMs: NEVER_REMINDED })
              : undefined,
          ),
        ),
      ),
    );
  }

  private async clear(targetId: string, subject: string, eventIds: ReadonlySet<string>): Promise<void> {
    await this.update(targetId, subject, (current) => {
      const waiting = current?.unannounced;
      if (current === undefined || waiting === undefined) return undefined;
      const rest = waiting.filter((change) => !eventIds.has(change.eventId));
      return rest.length === waiting.length ? undefined : withUnannounced(current, rest);
    });
  }

  /**
   * Reads the subject's record, asks `change` for the next one (undefined: nothing to write)
   * and writes it conditionally; when another writer came in between, reads and asks again.
   * Returns what was written, if anything.
   */
  private async update(
    targetId: string,
    subject: string,
    change: (current: TrackedStatus | undefined) => TrackedStatus | undefined,
  ): Promise<TrackedStatus | undefined> {
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const current = await this.store.getStatus(targetId, subject);
      const next = change(current);
      if (next === undefined) return undefined;
      if (await this.store.replaceStatus(next, current)) return next;
    }
    throw new Error(
      `the status of ${subject} of ${targetId} changed under ${MAX_CONFLICTS} writes in a row; this result is not tracked`,
    );
  }

  /**
   * True at most once per endpoint per UTC calendar day: the first call of a day claims that
   * day's certificate reminder, later calls that day get false. Kept in the store under the
   * subject "cert:<endpoint>" (status = the reminder's severity, sinceMs = when it was sent).
   */
  claimCertificateReminder(input: {
    readonly targetId: string;
    readonly endpoint: string;
    readonly status: Status;
    readonly atMs: number;
    /** The reminder event's id: settling it as not published gives the claim back. */
    readonly eventId: string;
  }): Promise<boolean> {
    const { targetId, eventId } = input;
    const subject = certificateReminderSubject(input.endpoint);
    return this.oneAtATime(targetId, subject, async () => {
      let previous: TrackedStatus | undefined;
      const claimed = await this.update(targetId, subject, (last) => {
        previous = last;
        return last !== undefined && utcDay(last.sinceMs) >= utcDay(input.atMs)
          ? undefined
          : {
              targetId,
              subject,
              status: input.status,
              reason: "cert-expiring",
              sinceMs: input.atMs,
              pendingCount: 0,
              updatedAtMs: input.atMs,
            };
      });
      if (claimed === undefined) return false;
      this.claims.set(eventId, { targetId, subject, previous, claimed });
      return true;
    });
  }

  /** Runs tasks for one subject in call order, so read-then-write steps never interleave. */
  private oneAtATime<T>(targetId: string, subject: string, task: () => Promise<T>): Promise<T> {
    const key = `${targetId}\u0000${subject}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}

/** Waits for every task, then throws the first failure, if any: one failure stops no other. */
async function allOrFirstError(tasks: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(tasks);
  const failed = outcomes.find((outcome) => outcome.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}

function unannouncedChange(
  transition: StatusTransition,
  eventId: string,
  eventAtMs: number,
): UnannouncedChange {
  const { targetId: _target, subject: _subject, ...change } = transition;
  return { eventId, eventAtMs, ...change };
}

function announcementOf(targetId: string, subject: string, change: UnannouncedChange): StatusAnnouncement {
  const { eventId, eventAtMs, ...rest } = change;
  return { eventId, eventAtMs, transition: { targetId, subject, ...rest } };
}

/** The record with these unannounced changes; without the field when there are none. */
function withUnannounced(status: TrackedStatus, waiting: readonly UnannouncedChange[]): TrackedStatus {
  const { unannounced: _previous, ...rest } = status;
  return waiting.length === 0 ? rest : { ...rest, unannounced: waiting };
}

/** The events a publisher settles with the tracker: status changes and certificate reminders. */
export function trackedEventIds(events: readonly ScoutEvent[]): string[] {
  return events
    .filter((event) => event.type === "status.changed" || event.type === "certificate.expiring")
    .map((event) => event.id);
}

/** The store subject that holds an endpoint's certificate reminder bookkeeping. */
export function certificateReminderSubject(endpoint: string): string {
  return `${CERTIFICATE_PREFIX}${endpoint}`;
}

/** Subjects that are reminder bookkeeping, not statuses: status views should skip them. */
export function isCertificateReminderSubject(subject: string): boolean {
  return subject.startsWith(CERTIFICATE_PREFIX);
}

function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}
