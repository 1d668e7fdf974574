import { mapBounded } from "../../core/basics/map-bounded.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import type { CorrelateDeps, CorrelationOutcome } from "../../core/roundtrip/correlate.ts";
import type { Spool } from "../adapters/spool.ts";
import { correlateSpooled } from "./correlate-spooled.ts";

/** Spooled messages correlated side by side (the bench uses the same figure). */
export const SPOOL_CONCURRENCY = 8;

export interface SpoolDrainerDeps {
  readonly spool: Spool;
  readonly correlate: CorrelateDeps;
  readonly log: Logger;
  /** Publishes the events of a probe's final transition (returned, late, bounced). */
  readonly publishRoundTrip: (probe: ProbeRecord) => Promise<void>;
  /** Told of every outcome once its message is dealt with (removed or moved to rejected/). */
  readonly onOutcome: (outcome: CorrelationOutcome) => void;
}

/**
 * Correlates what the inbound listener spooled: each message once, its file removed only
 * after its result is stored, so a crash in between means it is processed again (and
 * correlation is idempotent). Concurrent drain() calls coalesce into one more pass.
 */
export class SpoolDrainer {
  private draining: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: SpoolDrainerDeps) {}

  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        // A few at a time: a burst (a relay flushing its queue after an outage) drains faster,
        // and each message's correlation is one conditional change, safe to run side by side.
        await mapBounded(await this.deps.spool.pending(), SPOOL_CONCURRENCY, (id) => this.process(id));
      } while (this.again);
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Resolves once a drain in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.draining;
  }

  private async process(id: string): Promise<void> {
    const { spool, log } = this.deps;
    try {
      const outcome = await correlateSpooled(spool, id, this.deps.correlate);
      if (outcome.kind === "rejected") {
        log.warn("return rejected", {
          reason: outcome.reason,
          detail: outcome.detail,
          probe: outcome.probeId,
          spool: id,
        });
        await spool.reject(id, outcome.reason);
      } else {
        // A publish that fails leaves the outcome unannounced in the store, where the monitor
        // finds it again: the spooled message is done with either way.
        if (outcome.kind === "returned" || outcome.kind === "late" || outcome.kind === "bounced") {
          await this.deps.publishRoundTrip(outcome.probe);
        }
        logOutcome(log, outcome);
        await spool.remove(id);
      }
      this.announce(outcome);
    } catch (error) {
      // A store failure: keep the spooled file; the next pass retries it. Nothing is lost.
      log.error("cannot process a spooled message; kept for retry", { spool: id, error: String(error) });
    }
  }

  /** A listener's failure is only logged: the message is dealt with already. */
  private announce(outcome: CorrelationOutcome): void {
    try {
      this.deps.onOutcome(outcome);
    } catch (error) {
      this.deps.log.error("an outcome listener failed", { error: String(error) });
    }
  }
}

function logOutcome(log: Logger, outcome: Exclude<CorrelationOutcome, { kind: "rejected" }>): void {
  if (outcome.kind === "returned" || outcome.kind === "late") {
    log.info(`probe ${outcome.kind}`, {
      target: outcome.probe.targetId,
      probe: outcome.probe.probeId,
      rttMs: outcome.probe.rttMs,
    });
  } else if (outcome.kind === "bounced") {
    log.warn("probe bounced", {
      target: outcome.probe.targetId,
      probe: outcome.probe.probeId,
      status: outcome.probe.bounce?.status,
      diagnostic: outcome.probe.bounce?.diagnostic,
    });
  } else {
    log.info(`inbound ${outcome.kind}`, { probe: "probeId" in outcome ? outcome.probeId : undefined });
  }
}
