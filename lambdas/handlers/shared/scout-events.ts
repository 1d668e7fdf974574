import type { CheckResult } from "../../checks/result.ts";
import type { TargetConfig } from "../../core/config/schema.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import { eventsForCheckResults } from "../../core/events/events-for-checks.ts";
import { eventsForRoundTrip } from "../../core/events/events-for-roundtrip.ts";
import { customerOf } from "../../core/events/make-event.ts";
import { roundTripThresholdsOf } from "../../core/events/roundtrip-status.ts";
import { StatusTracker } from "../../core/events/status-tracker.ts";
import type { ProbeRecord } from "../../ports/probe-store.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The events of one invocation (check.completed, roundtrip.completed, status.changed,
 * certificate.expiring), built by the core from results and tracked statuses, then queued on
 * EVENTS_QUEUE_URL for the notifier; without a queue each is only logged. Building or queueing
 * failures are reported to the caller, never thrown: the measurements are already stored.
 */
export class ScoutEvents {
  private readonly tracker: StatusTracker;
  private readonly pending: ScoutEvent[] = [];

  constructor(private readonly rt: Runtime) {
    this.tracker = new StatusTracker(rt.statuses);
  }

  /** One cycle's check results of one target. */
  async checks(targetId: string, results: readonly CheckResult[]): Promise<void> {
    const target = this.target(targetId);
    if (target === undefined || results.length === 0) return;
    this.pending.push(
      ...(await eventsForCheckResults({
        tracker: this.tracker,
        targetId,
        customer: customerOf(target, this.rt.config.webhooks.defaultCustomer),
        confirmAfter: target.confirmAfter,
        results,
        now: this.rt.clock.now(),
      })),
    );
  }

  /** A probe after its final transition (returned, late, lost, bounced, send-failed). */
  async roundTrip(probe: ProbeRecord): Promise<void> {
    const target = this.target(probe.targetId);
    // A probe of a target since removed from the config: its outcome concerns no one now.
    if (target === undefined) return;
    this.pending.push(
      ...(await eventsForRoundTrip({
        tracker: this.tracker,
        customer: customerOf(target, this.rt.config.webhooks.defaultCustomer),
        confirmAfter: target.confirmAfter,
        probe,
        thresholds: roundTripThresholdsOf(this.rt.config.roundTrip, target.probe),
        now: this.rt.clock.now(),
      })),
    );
  }

  /** Queues (or logs) everything built so far. Throws only when the queue refused events. */
  async publish(): Promise<number> {
    const events = this.pending.splice(0);
    if (events.length === 0) return 0;
    if (this.rt.events === undefined) {
      for (const event of events) {
        this.rt.log.info("event", { type: event.type, id: event.id, target: event.target, queue: "none" });
      }
      return events.length;
    }
    await this.rt.events.publish(events);
    return events.length;
  }

  private target(targetId: string): TargetConfig | undefined {
    return this.rt.config.targets.find((target) => target.id === targetId);
  }
}
