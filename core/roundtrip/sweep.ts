import type { Clock } from "../ports/clock.ts";
import type { ProbeRecord, ProbeStore } from "../ports/probe-store.ts";

/**
 * Moves `sent` probes whose deadline has passed to `lost`, at most `limit` per call (the next
 * run takes the rest; looping here could spin on a store whose index lags its writes). Each
 * move is conditional on the probe still being `sent`, so a return correlated at the same
 * moment either wins (the probe stays returned) or loses cleanly (it comes back as late).
 * Returns the probes this call moved.
 */
export async function sweepOverdue(store: ProbeStore, clock: Clock, limit = 500): Promise<ProbeRecord[]> {
  const nowMs = clock.now();
  const swept: ProbeRecord[] = [];
  for (const probe of await store.overdue(nowMs, limit)) {
    const lost = await store.transition(probe.probeId, ["sent"], "lost", {}, nowMs);
    if (lost !== undefined) swept.push(lost);
  }
  return swept;
}
