import { setTimeout as sleepFor } from "node:timers/promises";

/** Time for pacing and backoff: real time in Lambda, an injected clock in tests. */
export interface PacingTimer {
  now(): number;
  /** Resolves after `ms` milliseconds; nothing of it is left pending once it has resolved. */
  sleep(ms: number): Promise<void>;
}

export const realTimer: PacingTimer = {
  now: () => Date.now(),
  sleep: (ms) => sleepFor(ms),
};

/**
 * A token bucket of one token, refilled at `ratePerSecond`, shared by a run's concurrent sends:
 * the first send goes at once and each later one waits for the next free slot, 1000 / rate ms
 * after the one before, in the order they asked. SES's MaxSendRate is messages per second over
 * the account; a bucket of one never bursts past it. Nothing runs between sends: a caller
 * sleeps until its own slot, so no timer outlives the send that is waiting for it.
 */
export class SendPacer {
  private readonly intervalMs: number;
  private nextSlotMs = Number.NEGATIVE_INFINITY;

  constructor(
    ratePerSecond: number,
    private readonly timer: PacingTimer = realTimer,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`a send rate must be above 0, not ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
  }

  /**
   * Takes the next slot and waits for it; false, at once and without taking it, when that slot
   * would come after `deadlineMs`.
   */
  async acquire(deadlineMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const now = this.timer.now();
    const slot = Math.max(now, this.nextSlotMs);
    if (slot > deadlineMs) return false;
    this.nextSlotMs = slot + this.intervalMs;
    if (slot > now) await this.timer.sleep(slot - now);
    return true;
  }
}
