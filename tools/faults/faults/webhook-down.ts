import type { Fault, Verdict } from "../fault.ts";
import type { Harness } from "../harness.ts";

/** How many events the dispatcher tried and failed to deliver (still pending, with an error). */
function failingRows(harness: Harness) {
  return harness.monitor.outbox.list(["pending"]).filter((row) => row.attempts > 0 && row.lastError);
}

/** Every event the monitor published reached the receiver, and nothing waits or failed. */
function everythingDelivered(harness: Harness): Verdict {
  const received = harness.sink.ids();
  const missing = [...harness.recorder.eventIds].filter((id) => !received.has(id));
  const counts = harness.monitor.outbox.counts();
  const undeliverable = counts.failed + counts.rejected + counts.gone;
  return {
    met: missing.length === 0 && counts.pending === 0 && undeliverable === 0,
    observed: `${harness.recorder.eventIds.size - missing.length}/${harness.recorder.eventIds.size} events delivered, ${counts.pending} pending, ${undeliverable} failed`,
    atMs: Date.now(),
  };
}

/** At least one event retried while the receiver was down: the outage lasted a while. */
function retriedWhileDown(harness: Harness): Verdict {
  const failing = failingRows(harness);
  const retried = failing.filter((row) => row.attempts >= 2);
  return {
    met: retried.length > 0,
    observed: `${failing.length} event(s) waiting for retry (${failing[0]?.lastError ?? "no error yet"})`,
    // Detected when the first event could not be delivered: it was attempted as it was queued.
    ...(failing.length > 0 ? { atMs: Math.min(...failing.map((row) => row.createdAtMs)) } : {}),
  };
}

/** The verdict once it is met, polling for up to `ms`; the last one otherwise. */
async function within(ms: number, verdict: () => Verdict): Promise<Verdict> {
  const deadline = Date.now() + ms;
  let last = verdict();
  while (!last.met && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = verdict();
  }
  return last;
}

/** The webhook receiver refuses connections for a while; the outbox keeps and retries. */
export const webhookDown: Fault = {
  id: "webhook-down",
  title: "the webhook receiver down",
  expected: "events kept in the outbox and retried with backoff; every event delivered once it is back",
  // Down for three cycles at least, so several events and several retries pile up.
  minCycles: 3,
  async inject(harness) {
    await harness.sink.close();
  },
  async restore(harness) {
    await harness.sink.reopen();
  },
  // The retry is the outbox's doing, on its own clock (full jitter: up to a second after the
  // first failure), not the cycle's: wait for it, bounded, rather than count on cycles being slow.
  detected: (_window, harness) => within(15_000, () => retriedWhileDown(harness)),
  // Backoff with full jitter: after an outage the next retry can be tens of seconds away.
  recoverCycles: 40,
  // The cycle's own last events are still in flight when it ends: give them a moment.
  recovered: (_after, harness) => within(3_000, () => everythingDelivered(harness)),
};
