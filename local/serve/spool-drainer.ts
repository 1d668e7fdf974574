import { describeError } from "../../core/basics/describe-error.ts";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import { takeReturn } from "../../core/intake/take-return.ts";
import type { JobPorts } from "../../core/ports/job-ports.ts";
import type { CorrelationOutcome } from "../../core/roundtrip/correlate.ts";
import type { Spool } from "../adapters/spool.ts";
import { inboundMailOf } from "./correlate-spooled.ts";

/** Spooled messages correlated side by side (the bench uses the same figure). */
export const SPOOL_CONCURRENCY = 8;

export interface SpoolDrainerDeps {
  readonly spool: Spool;
  /** The core's ports, for its return intake. */
  readonly ports: JobPorts;
  /** Told of every outcome once its message is dealt with (removed or moved to rejected/). */
  readonly onOutcome: (outcome: CorrelationOutcome) => void;
  /** Told the sending address of every message rejected (the listener limits their rate). */
  readonly onRejected?: (remoteAddress: string) => void;
}

/**
 * Feeds what the inbound listener spooled to the core's return intake: each message once, its
 * file removed only after its result is stored, so a crash in between means it is processed
 * again (and correlation is idempotent). Concurrent drain() calls coalesce into one more pass.
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
    const { spool, ports } = this.deps;
    try {
      const entry = await spool.read(id);
      const { outcome } = await takeReturn({ kind: "mail", mail: inboundMailOf(entry) }, ports);
      // A publish that failed left the outcome unannounced in the store, where the next cycle
      // finds it again: the spooled message is done with either way.
      if (outcome.kind === "rejected") {
        await spool.reject(id, outcome.reason);
        const { remoteAddress } = entry.meta;
        if (remoteAddress !== undefined) this.deps.onRejected?.(remoteAddress);
      } else await spool.remove(id);
      this.announce(outcome);
    } catch (error) {
      // A store failure: keep the spooled file; the next pass retries it. Nothing is lost.
      ports.log.error("cannot process a spooled message; kept for retry", {
        spool: id,
        error: describeError(error),
      });
    }
  }

  /** A listener's failure is only logged: the message is dealt with already. */
  private announce(outcome: CorrelationOutcome): void {
    try {
      this.deps.onOutcome(outcome);
    } catch (error) {
      this.deps.ports.log.error("an outcome listener failed", { error: describeError(error) });
    }
  }
}
