import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../core/basics/secret.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { WebhookPoster } from "../../core/ports/webhook-poster.ts";
import type { AttemptOutcome } from "../../core/webhook/outcome.ts";
import { type RetryPolicy, retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { SqliteOutbox } from "../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { DEFAULT_IDLE_CHECK_MS, WebhookDispatcher } from "../../local/serve/webhook-dispatcher.ts";
import { newWebhookSecret, untilEmitted } from "../support/webhook-receiver.ts";

// Issue 15, point 10: an endpoint is backed off as a whole, and gets its backlog as soon as it
// answers again. The clock is injected and the poster answers at once: no sleeps, no sockets.

const DOWN: AttemptOutcome = { kind: "retry", durationMs: 1, error: "ECONNREFUSED: connect ECONNREFUSED" };
const UP: AttemptOutcome = { kind: "delivered", status: 204, durationMs: 1 };

/**
 * A poster that records which events it was asked to send, in order, and answers as `up` says;
 * an endpoint in `hanging` never answers (an attempt in flight).
 */
class ScriptedPoster implements WebhookPoster {
  up = false;
  readonly hanging = new Set<string>();
  readonly sent: string[] = [];
  readonly sentTo: string[] = [];
  attempt(target: { id: string }, event: { id: string }): Promise<AttemptOutcome> {
    this.sent.push(event.id);
    this.sentTo.push(target.id);
    if (this.hanging.has(target.id)) return new Promise(() => {});
    return Promise.resolve(this.up || target.id !== "ops" ? UP : DOWN);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function events(n: number): ScoutEvent[] {
  return Array.from({ length: n }, (_, index) => ({
    id: `evt_C${String(index).padStart(25, "0")}`,
    type: "check.completed" as const,
    version: 1 as const,
    time: new Date(0).toISOString(),
    customer: "acme",
    target: "mx1",
    data: { index },
  }));
}

async function rig(policy: RetryPolicy, endpointIds: readonly string[] = ["ops"]) {
  const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), "webhook-circuit-")), "scout.db"));
  const clock = { nowMs: 1_800_000_000_000, now: () => clock.nowMs };
  const endpoints = endpointIds.map((id) => ({
    id,
    url: "http://127.0.0.1:9/hook",
    secret: new Secret(newWebhookSecret()),
    timeoutMs: 1_000,
  }));
  const outbox = new SqliteOutbox(store.db, endpoints, clock);
  const poster = new ScriptedPoster();
  const dispatcher = new WebhookDispatcher({
    outbox,
    endpoints,
    policy,
    poster,
    clock,
    random: () => 0.5,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  cleanups.push(async () => {
    poster.hanging.clear();
    await Promise.race([dispatcher.stop(), new Promise((resolve) => setImmediate(resolve))]);
    store.close();
  });
  /** Resolves once `count` attempts have been made and recorded. */
  const attempted = (count: number) =>
    untilEmitted(
      dispatcher.events,
      "attempt",
      () => poster.sent.length >= count && dispatcher.busy === 0,
      10_000,
      `${count} attempts`,
    );
  /** Lets every pending turn of the event loop run (pump, attempts, the batch record). */
  const settle = async () => {
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { outbox, poster, dispatcher, clock, attempted, settle };
}

describe("WebhookDispatcher: per-endpoint backoff", () => {
  it("holds a failing endpoint's 50 events, probes once per backoff step, then delivers all 50 in order at once", async () => {
    const policy = retryPolicyFor(86_400);
    const r = await rig(policy);
    const batch = events(50);
    r.dispatcher.start();
    await r.outbox.publish(batch);
    // The first look takes as many as may run at once; they all fail and the endpoint is held.
    await r.attempted(8);
    await r.settle();
    expect(r.poster.sent).toEqual(batch.slice(0, 8).map((event) => event.id));

    for (let failures = 1; failures <= 6; failures++) {
      const heldUntil = r.outbox.nextDueAfter(r.clock.nowMs);
      // Full jitter with random 0.5: half of base x 2^(failures - 1).
      expect(heldUntil).toBe(r.clock.nowMs + 500 * 2 ** (failures - 1));
      const before = r.poster.sent.length;
      r.clock.nowMs = (heldUntil ?? 0) - 1;
      r.dispatcher.wake();
      await r.settle();
      expect(r.poster.sent.length).toBe(before);

      r.clock.nowMs = heldUntil ?? 0;
      r.dispatcher.wake();
      await r.attempted(before + 1);
      await r.settle();
      // One probe per step, the oldest event, not 50.
      expect(r.poster.sent.slice(before)).toEqual([batch[0]?.id]);
    }
    expect(r.outbox.counts()).toMatchObject({ pending: 50, delivered: 0 });

    r.poster.up = true;
    const recoveredAt = r.outbox.nextDueAfter(r.clock.nowMs) ?? 0;
    r.clock.nowMs = recoveredAt;
    const before = r.poster.sent.length;
    r.dispatcher.wake();
    await r.attempted(before + 50);
    // All 50, oldest first, without the clock moving on: well within one idle check interval.
    expect(r.poster.sent.slice(before)).toEqual(batch.map((event) => event.id));
    const delivered = r.outbox.list(["delivered"]);
    expect(delivered).toHaveLength(50);
    for (const row of delivered) expect(row.updatedAtMs - recoveredAt).toBeLessThan(DEFAULT_IDLE_CHECK_MS);
    // Per-row attempt counts are kept: the probe made 8, the first burst 1 more each.
    expect(delivered.find((row) => row.eventId === batch[0]?.id)?.attempts).toBe(8);
    expect(delivered.find((row) => row.eventId === batch[49]?.id)?.attempts).toBe(1);
  });

  it("events of an endpoint that keeps failing still end failed once older than maxAgeSeconds", async () => {
    const policy = retryPolicyFor(60);
    const r = await rig(policy);
    const startMs = r.clock.nowMs;
    r.dispatcher.start();
    await r.outbox.publish(events(50));
    await r.attempted(8);
    await r.settle();
    while (r.outbox.counts().pending > 0) {
      const next = r.outbox.nextDueAfter(r.clock.nowMs);
      if (next === undefined) break;
      const before = r.poster.sent.length;
      r.clock.nowMs = next;
      r.dispatcher.wake();
      await r.attempted(before + 1);
      await r.settle();
    }
    expect(r.outbox.counts()).toMatchObject({ pending: 0, failed: 50 });
    // Backoff steps of 0.5, 1, 2, 4, 8, 16, 32 s reach the 60 s limit: a handful of probes in all.
    expect(r.poster.sent.length).toBeLessThan(8 + 10);
    expect(r.clock.nowMs - startMs).toBeGreaterThanOrEqual(60_000);
    expect(r.outbox.list(["failed"])[0]?.lastError).toContain("not delivered within 60 s");
  });

  it("a held or probing endpoint does not keep another endpoint's events waiting", async () => {
    const r = await rig(retryPolicyFor(86_400), ["ops", "audit"]);
    r.dispatcher.start();
    await r.outbox.publish(events(50));
    // "ops" fails and is held; "audit" gets every event without the clock moving.
    await untilEmitted(
      r.dispatcher.events,
      "attempt",
      () => r.outbox.counts().delivered === 50,
      10_000,
      "audit's 50",
    );
    await r.settle();
    // Only the first look's share: once it failed, ops was held.
    const opsBurst = r.poster.sentTo.filter((id) => id === "ops").length;
    expect(opsBurst).toBeLessThanOrEqual(8);

    // Events queued while ops is held join its hold: audit gets them, ops gets no attempt.
    await r.outbox.publish(events(55).slice(50));
    await untilEmitted(
      r.dispatcher.events,
      "attempt",
      () => r.outbox.counts().delivered === 55,
      10_000,
      "audit's 5 more",
    );
    await r.settle();
    expect(r.outbox.due(r.clock.nowMs, 100)).toEqual([]);
    expect(r.poster.sentTo.filter((id) => id === "ops")).toHaveLength(opsBurst);

    // ops's probe hangs in flight: its other 49 are left out of the look, audit's new events are not.
    r.poster.hanging.add("ops");
    r.clock.nowMs = r.outbox.nextDueAfter(r.clock.nowMs) ?? 0;
    r.dispatcher.wake();
    await r.settle();
    expect(r.dispatcher.busy).toBe(1);
    const more = events(60).slice(50);
    await r.outbox.publish(more);
    await untilEmitted(
      r.dispatcher.events,
      "attempt",
      () => r.outbox.counts().delivered === 60,
      10_000,
      "audit's 10 more",
    );
    expect(r.poster.sentTo.filter((id) => id === "ops")).toHaveLength(opsBurst + 1);
  });
});
