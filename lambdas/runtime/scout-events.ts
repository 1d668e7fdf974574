import type { CheckResult } from "../../core/checks/result.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import { ResultEvents } from "../../core/events/result-events.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import type { StatusStore } from "../../core/ports/status-store.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The events of one invocation (check.completed, roundtrip.completed, status.changed,
 * certificate.expiring), built by the core (ResultEvents, as in local mode) from results and
 * tracked statuses, collected, then queued on EVENTS_QUEUE_URL for the notifier in one go;
 * without a queue each is only logged.
 */
export class ScoutEvents {
  private readonly results: ResultEvents;
  private readonly pending: ScoutEvent[] = [];

  /** `statuses` replaces the runtime's status store (the prober's snapshot of one run). */
  constructor(rt: Runtime, statuses: StatusStore = rt.statuses) {
    this.results = new ResultEvents({
      config: rt.config,
      statuses,
      clock: rt.clock,
      sink: rt.events,
      log: rt.log,
    });
  }

  /** One cycle's check results of one target. */
  async checks(targetId: string, results: readonly CheckResult[]): Promise<void> {
    this.pending.push(...(await this.results.forChecks(targetId, results)));
  }

  /** A probe after its final transition (returned, late, lost, bounced, send-failed). */
  async roundTrip(probe: ProbeRecord): Promise<void> {
    this.pending.push(...(await this.results.forRoundTrip(probe)));
  }

  /** Queues (or logs) everything built so far. Throws only when the queue refused events. */
  async publish(): Promise<number> {
    const events = this.pending.splice(0);
    await this.results.publish(events);
    return events.length;
  }
}
