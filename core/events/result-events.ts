import { describeError } from "../basics/describe-error.ts";
import type { CheckResult } from "../checks/result.ts";
import type { DeployConfig, TargetConfig } from "../config/schema.ts";
import type { Clock } from "../ports/clock.ts";
import { type EventSink, type PartlyKept, partlyKeptOf } from "../ports/event-sink.ts";
import type { Logger } from "../ports/logger.ts";
import type { ProbeRecord } from "../ports/probe-store.ts";
import type { StatusStore } from "../ports/status-store.ts";
import type { ScoutEvent } from "./event.ts";
import { eventsForCheckResults } from "./events-for-checks.ts";
import { eventsForRoundTrip } from "./events-for-roundtrip.ts";
import { customerOf } from "./make-event.ts";
import { roundTripThresholdsOf } from "./roundtrip-status.ts";
import { StatusTracker, trackedEventIds } from "./status-tracker.ts";

export interface ResultEventsDeps {
  readonly config: Pick<DeployConfig, "targets" | "roundTrip" | "webhooks" | "posture">;
  readonly statuses: StatusStore;
  readonly clock: Clock;
  /** Where events go (the outbox locally, SQS on AWS); without one each is only logged. */
  readonly sink: EventSink | undefined;
  readonly log: Logger;
  /** Sees every event as it is published (the monitor re-emits them for its own listeners). */
  readonly onEvent?: (event: ScoutEvent) => void;
}

/**
 * Turns results into events (check.completed, roundtrip.completed, status.changed with flap
 * control, certificate.expiring) and publishes them: one object for local mode and the
 * Lambdas alike. Results are already stored when they get here, so a failure to build or
 * publish events is the caller's to log; it never undoes a measurement.
 */
export class ResultEvents {
  private readonly tracker: StatusTracker;

  constructor(private readonly deps: ResultEventsDeps) {
    this.tracker = new StatusTracker(deps.statuses);
  }

  /** The events of one cycle's check results of one target. */
  async forChecks(targetId: string, results: readonly CheckResult[]): Promise<ScoutEvent[]> {
    const target = this.target(targetId);
    if (target === undefined || results.length === 0) return [];
    return eventsForCheckResults({
      tracker: this.tracker,
      targetId,
      customer: customerOf(target, this.deps.config.webhooks.defaultCustomer),
      confirmAfter: target.confirmAfter,
      // Posture runs hourly: confirming over the target's count of runs would delay a change by hours.
      postureConfirmAfter: this.deps.config.posture.confirmAfter,
      results,
      now: this.deps.clock.now(),
    });
  }

  /** The events of a probe after its final transition (returned, late, lost, bounced, send-failed). */
  async forRoundTrip(probe: ProbeRecord): Promise<ScoutEvent[]> {
    const target = this.target(probe.targetId);
    // A probe of a target since removed from the config concerns no one now.
    if (target === undefined) return [];
    return eventsForRoundTrip({
      tracker: this.tracker,
      customer: customerOf(target, this.deps.config.webhooks.defaultCustomer),
      confirmAfter: target.confirmAfter,
      probe,
      thresholds: roundTripThresholdsOf(this.deps.config.roundTrip, target.probe),
      now: this.deps.clock.now(),
    });
  }

  /**
   * Publishes events; resolves once the sink holds them durably. Then (or when the sink
   * refused them, wholly or in part) settles them with the tracker: queued status changes are
   * struck from the status records; refused ones stay there and come again with the next
   * observation, and a refused certificate reminder is claimed again by the next result.
   */
  async publish(events: readonly ScoutEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.deps.sink === undefined) {
      for (const event of events)
        this.deps.log.info("event", { type: event.type, id: event.id, target: event.target, sink: "none" });
    } else {
      try {
        await this.deps.sink.publish(events);
      } catch (error) {
        // Both settle steps run whatever the other does; the queue's error is the one thrown.
        const { kept, notKept } = splitByKept(events, partlyKeptOf(error));
        await Promise.all([this.settle(notKept, false), this.settle(kept, true)]);
        throw error;
      }
    }
    await this.settle(events, true);
    for (const event of events) this.deps.onEvent?.(event);
  }

  /**
   * Settles events with the tracker, logging a failure instead of throwing it: a queued change
   * not struck is sent again (same id); a reminder not given back costs that day's reminder.
   */
  private async settle(events: readonly ScoutEvent[], published: boolean): Promise<void> {
    const ids = trackedEventIds(events);
    try {
      await this.tracker.settle(ids, published);
    } catch (error) {
      this.deps.log.warn(
        published
          ? "cannot mark status changes as announced"
          : "cannot give back certificate reminders of events not queued",
        { events: ids.join(","), error: describeError(error) },
      );
    }
  }

  private target(targetId: string): TargetConfig | undefined {
    return this.deps.config.targets.find((target) => target.id === targetId);
  }
}

/**
 * Which events a failed publish kept. Without the sink's word, none. A status change counts as
 * kept only when every endpoint's delivery was (sending it again is harmless: same id); a
 * certificate reminder as soon as one was (claimed again, it would go out under a new id to
 * the endpoints that got it).
 */
function splitByKept(
  events: readonly ScoutEvent[],
  partly: PartlyKept | undefined,
): { kept: ScoutEvent[]; notKept: ScoutEvent[] } {
  const kept: ScoutEvent[] = [];
  const notKept: ScoutEvent[] = [];
  for (const event of events) {
    const lost =
      partly === undefined ||
      (event.type === "certificate.expiring" ? partly.droppedEventIds : partly.incompleteEventIds).has(
        event.id,
      );
    (lost ? notKept : kept).push(event);
  }
  return { kept, notKept };
}
