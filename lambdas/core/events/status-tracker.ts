import type { Status } from "../../checks/reasons.ts";
import type { StatusStore } from "../../ports/status-store.ts";
import { flapStep, type Observation } from "./flap-control.ts";
import type { StatusTransition } from "./status-changed.ts";

const DAY_MS = 86_400_000;
const CERTIFICATE_PREFIX = "cert:";

/**
 * Status bookkeeping over the StatusStore port: flap control per subject (see flapStep), and
 * the once-a-day gate for certificate reminders. Observations of one subject are applied one
 * at a time within this process. The store has no conditional write, so two processes
 * observing the same subject at the same moment (the prober's sweep and the correlator, on
 * "roundtrip") could lose a count or both report the same change.
 */
export class StatusTracker {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly store: StatusStore) {}

  /** Applies one result; returns the confirmed change it completes, if any. */
  observe(observation: Observation): Promise<StatusTransition | undefined> {
    return this.oneAtATime(observation.targetId, observation.subject, async () => {
      const current = await this.store.getStatus(observation.targetId, observation.subject);
      const { next, transition } = flapStep(current, observation);
      if (next !== undefined) await this.store.putStatus(next);
      return transition;
    });
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
  }): Promise<boolean> {
    const subject = certificateReminderSubject(input.endpoint);
    return this.oneAtATime(input.targetId, subject, async () => {
      const last = await this.store.getStatus(input.targetId, subject);
      if (last !== undefined && utcDay(last.sinceMs) >= utcDay(input.atMs)) return false;
      await this.store.putStatus({
        targetId: input.targetId,
        subject,
        status: input.status,
        reason: "cert-expiring",
        sinceMs: input.atMs,
        pendingCount: 0,
        updatedAtMs: input.atMs,
      });
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
