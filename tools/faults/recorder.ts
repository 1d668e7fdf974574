import type { CheckCompletedData } from "../../core/events/check-completed.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { RoundTripCompletedData } from "../../core/events/roundtrip-completed.ts";
import type { StatusChangedData } from "../../core/events/status-changed.ts";
import type { Status } from "../../core/model/status.ts";

/** One confirmed status change, as the monitor published it. */
export interface SeenChange {
  readonly atMs: number;
  readonly cycle: number;
  readonly subject: string;
  readonly from: Status;
  readonly to: Status;
  readonly reason: string;
}

/** One final round-trip outcome, as the monitor published it. */
export interface SeenRoundTrip {
  readonly atMs: number;
  readonly cycle: number;
  readonly probeId: string;
  readonly outcome: string;
  readonly status: Status;
  readonly bounceStatus?: string;
  readonly bounceDiagnostic?: string;
  readonly error?: string;
  readonly rttMs?: number;
}

/** One service check result (check.completed). */
export interface SeenCheck {
  readonly cycle: number;
  readonly endpoint: string;
  readonly status: Status;
  readonly reason: string;
  readonly responseMs?: number;
}

/** A view of what was recorded from some moment on. */
export interface Window {
  readonly sinceMs: number;
  readonly changes: readonly SeenChange[];
  readonly roundTrips: readonly SeenRoundTrip[];
}

/**
 * Keeps every status.changed and roundtrip.completed the monitor publishes, the confirmed
 * status of every subject, and the ids of all events (to prove webhook delivery).
 */
export class Recorder {
  readonly changes: SeenChange[] = [];
  readonly roundTrips: SeenRoundTrip[] = [];
  readonly checks: SeenCheck[] = [];
  readonly eventIds = new Set<string>();
  /** Confirmed status per subject; a subject never reported is OK. */
  readonly statuses = new Map<string, { status: Status; reason: string }>();
  cycle = 0;

  record(event: ScoutEvent): void {
    const atMs = Date.now();
    this.eventIds.add(event.id);
    if (event.type === "status.changed") {
      const data = event.data as unknown as StatusChangedData;
      this.changes.push({
        atMs,
        cycle: this.cycle,
        subject: data.subject,
        from: data.from,
        to: data.to,
        reason: data.reason,
      });
      this.statuses.set(data.subject, { status: data.to, reason: data.reason });
    } else if (event.type === "check.completed") {
      const data = event.data as unknown as CheckCompletedData;
      this.checks.push({
        cycle: this.cycle,
        endpoint: data.endpoint,
        status: data.status,
        reason: data.reason,
        ...(data.responseMs === undefined ? {} : { responseMs: data.responseMs }),
      });
    } else if (event.type === "roundtrip.completed") {
      const data = event.data as unknown as RoundTripCompletedData;
      this.roundTrips.push({
        atMs,
        cycle: this.cycle,
        probeId: data.probeId,
        outcome: data.outcome,
        status: data.status,
        ...(data.bounce?.status ? { bounceStatus: data.bounce.status } : {}),
        ...(data.bounce?.diagnostic ? { bounceDiagnostic: data.bounce.diagnostic } : {}),
        ...(data.error ? { error: data.error } : {}),
        ...(data.rttMs === undefined ? {} : { rttMs: data.rttMs }),
      });
    }
  }

  since(sinceMs: number): Window {
    return {
      sinceMs,
      changes: this.changes.filter((c) => c.atMs >= sinceMs),
      roundTrips: this.roundTrips.filter((r) => r.atMs >= sinceMs),
    };
  }

  /** Subjects whose confirmed status is not OK right now. */
  notOk(): string[] {
    return [...this.statuses].filter(([, s]) => s.status !== "OK").map(([subject]) => subject);
  }
}
