import type { PacingTimer } from "../../lambdas/aws/ses-send-pacer.ts";

/** A PacingTimer on an injected clock, and what it was asked to do. */
export interface VirtualTimer extends PacingTimer {
  /** Every sleep asked for, in ms, in the order asked. */
  readonly sleeps: readonly number[];
  /** Sleeps not yet over: none may be left once the work under test is done. */
  pending(): number;
}

/**
 * Time moves only when someone sleeps: one sleep ends per turn of the event loop, the earliest
 * wake-up first, and moves the clock to it. Work woken by a sleep runs before the next one ends,
 * so what it reads from `now()` is the time it was woken at.
 */
export function virtualTimer(startMs = Date.parse("2026-06-01T00:00:00Z")): VirtualTimer {
  let nowMs = startMs;
  const sleeps: number[] = [];
  const waiting: { wakeAtMs: number; resolve: () => void }[] = [];
  const wakeEarliest = (): void => {
    waiting.sort((a, b) => a.wakeAtMs - b.wakeAtMs);
    const next = waiting.shift();
    if (next === undefined) return;
    nowMs = Math.max(nowMs, next.wakeAtMs);
    next.resolve();
  };
  return {
    now: () => nowMs,
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => {
        waiting.push({ wakeAtMs: nowMs + ms, resolve });
        setImmediate(wakeEarliest);
      });
    },
    sleeps,
    pending: () => waiting.length,
  };
}
