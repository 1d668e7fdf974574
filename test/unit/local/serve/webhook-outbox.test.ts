import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventType, ScoutEvent } from "../../../../core/events/event.ts";
import { SqliteOutbox } from "../../../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";

let store: SqliteStore;
let outbox: SqliteOutbox;
let now = 1_000_000;
const clock = { now: () => now };

function event(id: string, type: EventType = "check.completed", customer = "acme"): ScoutEvent {
  return {
    id,
    type,
    version: 1,
    time: new Date(now).toISOString(),
    customer,
    target: "mx1",
    data: { n: id },
  };
}

beforeEach(async () => {
  now = 1_000_000;
  store = await SqliteStore.open(":memory:");
  outbox = new SqliteOutbox(
    store.db,
    [
      { id: "ops" },
      { id: "status-only", events: ["status.changed"] },
      { id: "globex", customers: ["globex"] },
    ],
    clock,
  );
});
afterEach(() => store.close());

describe("SqliteOutbox", () => {
  it("queues one pending row per event and endpoint that wants it, due now", async () => {
    await outbox.publish([
      event("evt_a"),
      event("evt_b", "status.changed"),
      event("evt_c", "check.completed", "globex"),
    ]);
    const rows = outbox.due(now, 100).map((r) => `${r.eventId}->${r.endpointId}`);
    expect(rows.sort()).toEqual([
      "evt_a->ops",
      "evt_b->ops",
      "evt_b->status-only",
      "evt_c->globex",
      "evt_c->ops",
    ]);
    const row = outbox.due(now, 1)[0];
    expect(row).toMatchObject({ state: "pending", attempts: 0, nextAttemptMs: now, createdAtMs: now });
    expect(JSON.parse(row?.eventJson ?? "")).toEqual(event(row?.eventId ?? ""));
  });

  it("ignores an event published twice, and tells listeners only about new rows", async () => {
    let told = 0;
    outbox.onQueued(() => told++);
    await outbox.publish([event("evt_a")]);
    await outbox.publish([event("evt_a")]);
    expect(outbox.list()).toHaveLength(1);
    expect(told).toBe(1);
  });

  it("writes a batch in one transaction: all rows or none", async () => {
    const bad = { ...event("evt_bad"), type: undefined } as unknown as ScoutEvent;
    await expect(outbox.publish([event("evt_ok"), bad])).rejects.toThrow();
    expect(outbox.list()).toEqual([]);
  });

  it("reschedules a retry, and reports when the next row is due", async () => {
    await outbox.publish([event("evt_a")]);
    const [row] = outbox.due(now, 10);
    if (!row) throw new Error("no row");
    outbox.markRetry(row, now + 5_000, 503, "HTTP 503", now);
    expect(outbox.due(now + 4_999, 10)).toEqual([]);
    expect(outbox.nextDueAfter(now)).toBe(now + 5_000);
    expect(outbox.due(now + 5_000, 10)[0]).toMatchObject({
      attempts: 1,
      lastStatus: 503,
      lastError: "HTTP 503",
    });
  });

  it("finishes rows as delivered, failed or rejected; finished rows are never due", async () => {
    await outbox.publish([event("evt_a"), event("evt_b"), event("evt_c")]);
    outbox.markDelivered({ eventId: "evt_a", endpointId: "ops" }, 200, now);
    outbox.markFailed({ eventId: "evt_b", endpointId: "ops" }, undefined, "ECONNREFUSED", now);
    outbox.markRejected({ eventId: "evt_c", endpointId: "ops" }, 400, "HTTP 400", now);
    expect(outbox.due(now + 1e9, 10)).toEqual([]);
    expect(outbox.counts()).toEqual({ pending: 0, delivered: 1, failed: 1, rejected: 1, gone: 0 });
    expect(outbox.list(["failed"])[0]).toMatchObject({
      eventId: "evt_b",
      attempts: 1,
      lastError: "ECONNREFUSED",
    });
  });

  it("on 410 stops the endpoint's pending rows and keeps its later events as gone", async () => {
    await outbox.publish([event("evt_a"), event("evt_b"), event("evt_s", "status.changed")]);
    const stopped = outbox.markGone({ eventId: "evt_a", endpointId: "ops" }, 410, "HTTP 410", now);
    expect(stopped).toBe(3);
    await outbox.publish([event("evt_later")]);
    expect(
      outbox
        .list(["gone"])
        .map((r) => r.eventId)
        .sort(),
    ).toEqual(["evt_a", "evt_b", "evt_later", "evt_s"]);
    expect(outbox.due(now, 10).map((r) => r.endpointId)).toEqual(["status-only"]);
  });

  it("redrives failed, rejected and gone rows with a fresh retry window, narrowed by endpoint or event", async () => {
    await outbox.publish([event("evt_a"), event("evt_b"), event("evt_s", "status.changed")]);
    outbox.markFailed({ eventId: "evt_a", endpointId: "ops" }, 503, "HTTP 503", now);
    outbox.markRejected({ eventId: "evt_b", endpointId: "ops" }, 400, "HTTP 400", now);
    outbox.markGone({ eventId: "evt_s", endpointId: "status-only" }, 410, "HTTP 410", now);
    now += 60_000;
    let told = 0;
    outbox.onQueued(() => told++);
    expect(outbox.redrive({ eventId: "evt_a" })).toBe(1);
    const redriven = outbox.due(now, 10).find((r) => r.eventId === "evt_a");
    expect(redriven).toMatchObject({ endpointId: "ops", attempts: 0, createdAtMs: now, nextAttemptMs: now });
    expect(outbox.redrive({ endpointId: "status-only" })).toBe(1);
    expect(outbox.redrive({ endpointId: "nobody" })).toBe(0);
    expect(outbox.redrive()).toBe(1);
    // evt_s was still pending for "ops" all along.
    expect(outbox.counts()).toMatchObject({ pending: 4, failed: 0, rejected: 0, gone: 0 });
    expect(told).toBe(3);
    // A redriven gone endpoint gets its new events queued again.
    await outbox.publish([event("evt_new", "status.changed")]);
    expect(outbox.list(["pending"]).map((r) => r.eventId)).toContain("evt_new");
  });

  it("prunes old delivered rows only", async () => {
    await outbox.publish([event("evt_old"), event("evt_new"), event("evt_failed")]);
    outbox.markDelivered({ eventId: "evt_old", endpointId: "ops" }, 200, now);
    outbox.markFailed({ eventId: "evt_failed", endpointId: "ops" }, 503, "HTTP 503", now);
    outbox.markDelivered({ eventId: "evt_new", endpointId: "ops" }, 200, now + 10_000);
    expect(outbox.pruneDelivered(now + 5_000)).toBe(1);
    expect(
      outbox
        .list()
        .map((r) => r.eventId)
        .sort(),
    ).toEqual(["evt_failed", "evt_new"]);
  });

  it("keeps rows across a reopen of the same file", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const file = join(mkdtempSync(join(tmpdir(), "outbox-")), "scout.db");
    const first = await SqliteStore.open(file);
    await new SqliteOutbox(first.db, [{ id: "ops" }], clock).publish([event("evt_a")]);
    first.close();
    const second = await SqliteStore.open(file);
    try {
      expect(new SqliteOutbox(second.db, [], clock).due(now, 10).map((r) => r.eventId)).toEqual(["evt_a"]);
    } finally {
      second.close();
    }
  });
});
