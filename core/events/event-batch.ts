import { describeError } from "../basics/describe-error.ts";
import type { CheckResult } from "../checks/result.ts";
import { partlyKeptOf } from "../ports/event-sink.ts";
import type { JobPorts } from "../ports/job-ports.ts";
import type { Logger } from "../ports/logger.ts";
import type { ProbeRecord, ProbeStore } from "../ports/probe-store.ts";
import type { ScoutEvent } from "./event.ts";
import { ResultEvents } from "./result-events.ts";

/**
 * The events of one run of the job (a cycle, one inbound return), collected as results come in
 * and published in one go: one SQS batch call per run on AWS, one outbox transaction locally.
 *
 * A probe's outcome is stored unannounced (ProbeStore) before it gets here. Once the sink holds
 * its roundtrip.completed, the batch marks it announced; if the sink refused it, or the process
 * dies first, it stays unannounced and the next cycle announces it again under the same event
 * id (ids derive from the probe and its outcome), so nothing is lost and consumers dedupe.
 */
export class EventBatch {
  private readonly pending: ScoutEvent[] = [];
  /** Probes whose outcome's events are pending, with the id of their roundtrip.completed. */
  private readonly outcomes: { probe: ProbeRecord; eventId: string | undefined }[] = [];

  constructor(
    private readonly results: ResultEvents,
    private readonly probes: Pick<ProbeStore, "markOutcomesAnnounced">,
    private readonly log: Logger,
  ) {}

  /** One run's check results of one target. Throws when the status store fails. */
  async addChecks(targetId: string, results: readonly CheckResult[]): Promise<void> {
    this.pending.push(...(await this.results.forChecks(targetId, results)));
  }

  /** A probe after its final transition (returned, late, lost, bounced, send-failed). */
  async addRoundTrip(probe: ProbeRecord): Promise<void> {
    const events = await this.results.forRoundTrip(probe);
    this.pending.push(...events);
    const completed = events.find((event) => event.type === "roundtrip.completed");
    this.outcomes.push({ probe, eventId: completed?.id });
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Publishes everything collected so far; returns how many events the sink took. Throws the
   * sink's error when it refused events (wholly or in part), after marking announced whatever
   * outcomes it did keep.
   */
  async publish(): Promise<number> {
    const events = this.pending.splice(0);
    const outcomes = this.outcomes.splice(0);
    try {
      await this.results.publish(events);
    } catch (error) {
      const partly = partlyKeptOf(error);
      if (partly !== undefined) {
        await this.markAnnounced(
          outcomes.filter(({ eventId }) => eventId === undefined || !partly.incompleteEventIds.has(eventId)),
        );
      }
      throw error;
    }
    await this.markAnnounced(outcomes);
    return events.length;
  }

  /**
   * A failure here is logged, not thrown: the events are queued, and an outcome left marked
   * unannounced is only offered again with the same id.
   */
  private async markAnnounced(outcomes: readonly { probe: ProbeRecord }[]): Promise<void> {
    if (outcomes.length === 0) return;
    try {
      await this.probes.markOutcomesAnnounced(outcomes.map(({ probe }) => probe));
    } catch (error) {
      this.log.warn("cannot mark round trips announced; they will be announced again (same event ids)", {
        probes: outcomes.map(({ probe }) => probe.probeId).join(","),
        error: describeError(error),
      });
    }
  }
}

/** The event batch of one run of the job (a cycle, or one inbound return). */
export function eventBatchFor(ports: JobPorts): EventBatch {
  const results = new ResultEvents({
    config: ports.config,
    statuses: ports.statuses,
    clock: ports.clock,
    sink: ports.events,
    log: ports.log,
    ...(ports.onEvent ? { onEvent: ports.onEvent } : {}),
  });
  return new EventBatch(results, ports.probes, ports.log);
}
