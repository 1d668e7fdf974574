import type { Clock } from "../ports/clock.ts";
import type { ProbeRecord, ProbeStore } from "../ports/probe-store.ts";

export interface SweepOptions {
  /** At most this many overdue probes are read per call (default 500). */
  readonly limit?: number;
  /** Only these probes are moved (a shard's own targets); every one when absent. */
  readonly owns?: (targetId: string) => boolean;
}

/**
 * Moves `sent` probes whose deadline has passed to `lost`, from at most `limit` overdue probes
 * per call (the next run takes the rest; looping here could spin on a store whose index lags its
 * writes). Each move is conditional on the probe still being `sent`, so a return correlated at
 * the same moment either wins (the probe stays returned) or loses cleanly (it comes back as
 * late), and of two sweeps only one moves a probe. Returns the probes this call moved.
 */
export async function sweepOverdue(
  store: ProbeStore,
  clock: Clock,
  options: SweepOptions = {},
): Promise<ProbeRecord[]> {
  const { limit = 500, owns = () => true } = options;
  const nowMs = clock.now();
  const swept: ProbeRecord[] = [];
  for (const probe of await store.overdue(nowMs, limit)) {
    if (!owns(probe.targetId)) continue;
    const lost = await store.transition(probe.probeId, ["sent"], "lost", {}, nowMs);
    if (lost !== undefined) swept.push(lost);
  }
  return swept;
}
