import type { Harness } from "../faults/harness.ts";
import type { SeenChange, SeenCheck, SeenRoundTrip } from "../faults/recorder.ts";

export interface SoakOptions {
  readonly cycles: number;
  /** From the start of one cycle to the start of the next (a slower cycle starts the next at once). */
  readonly intervalMs: number;
  /** Called after every cycle, for progress output. */
  readonly onCycle?: (cycle: number, ms: number) => void;
}

export interface SoakResult {
  readonly cycles: number;
  readonly startedAt: Date;
  readonly elapsedMs: number;
  readonly longestCycleMs: number;
  /** Every confirmed status change (on a healthy host: none). */
  readonly changes: readonly SeenChange[];
  readonly roundTrips: readonly SeenRoundTrip[];
  readonly checks: readonly SeenCheck[];
  /** Events published, and how many reached the webhook receiver. */
  readonly events: number;
  readonly eventsDelivered: number;
}

/** What counts against a healthy host: alerts (changes to WARNING/CRITICAL) and probes not returned. */
export function soakProblems(result: SoakResult): string[] {
  const alerts = result.changes.filter((c) => c.to !== "OK");
  const notReturned = result.roundTrips.filter((r) => r.outcome !== "returned");
  return [
    ...alerts.map((c) => `cycle ${c.cycle}: ${c.subject} ${c.from} -> ${c.to} (${c.reason})`),
    ...notReturned.map(
      (r) => `cycle ${r.cycle}: probe ${r.probeId} ${r.outcome}${r.error ? ` (${r.error})` : ""}`,
    ),
    ...(result.eventsDelivered < result.events
      ? [`${result.events - result.eventsDelivered} event(s) not delivered to the webhook receiver`]
      : []),
  ];
}

/** Runs `cycles` cycles of the harness's monitor against the healthy host, `intervalMs` apart. */
export async function runSoak(harness: Harness, options: SoakOptions): Promise<SoakResult> {
  const startedAt = new Date();
  const fromChange = harness.recorder.changes.length;
  const fromRoundTrip = harness.recorder.roundTrips.length;
  const fromCheck = harness.recorder.checks.length;
  let longestCycleMs = 0;
  for (let i = 1; i <= options.cycles; i++) {
    const { startedMs, endedMs } = await harness.cycle();
    longestCycleMs = Math.max(longestCycleMs, endedMs - startedMs);
    options.onCycle?.(i, endedMs - startedMs);
    // Pacing, not synchronisation: the next cycle starts one interval after this one started.
    const wait = startedMs + options.intervalMs - Date.now();
    if (i < options.cycles && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await allDelivered(harness, 15_000);
  return {
    cycles: options.cycles,
    startedAt,
    elapsedMs: Date.now() - startedAt.getTime(),
    longestCycleMs,
    changes: harness.recorder.changes.slice(fromChange),
    roundTrips: harness.recorder.roundTrips.slice(fromRoundTrip),
    checks: harness.recorder.checks.slice(fromCheck),
    events: harness.recorder.eventIds.size,
    eventsDelivered: [...harness.recorder.eventIds].filter((id) => harness.sink.ids().has(id)).length,
  };
}

/** Waits (polling, bounded) until the receiver has every event published so far. */
async function allDelivered(harness: Harness, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const missing = () => {
    const received = harness.sink.ids();
    return [...harness.recorder.eventIds].some((id) => !received.has(id));
  };
  while (missing() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
}
