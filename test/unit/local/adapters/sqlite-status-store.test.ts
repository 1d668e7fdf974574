import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StatusTracker } from "../../../../core/events/status-tracker.ts";
import type { StatusStore, TrackedStatus } from "../../../../core/ports/status-store.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { SqliteStatusStore } from "../../../../local/adapters/sqlite-status-store.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";

/** The stores under test, with the plain write they offer for seeding. */
type SeedableStatusStore = StatusStore & { putStatus(status: TrackedStatus): Promise<void> };

import { trackedStatus, unannouncedCritical } from "../../../support/tracked-status.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

let dir: string;
const opened: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "scout-status-"));
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openSqlite(path = join(dir, "scout.db")): Promise<SqliteStore> {
  const store = await SqliteStore.open(path);
  opened.push(store);
  return store;
}

const makers: [string, () => Promise<SeedableStatusStore>][] = [
  ["SqliteStatusStore", async () => new SqliteStatusStore((await openSqlite()).db)],
  ["MemoryStatusStore", async () => new MemoryStatusStore()],
];

describe.each(makers)("%s (status store contract)", (_name, makeStore) => {
  let store: SeedableStatusStore;
  beforeEach(async () => {
    store = await makeStore();
  });

  it("has nothing for a subject never stored", async () => {
    expect(await store.getStatus("mx1", "roundtrip")).toBeUndefined();
    expect(await store.listStatuses()).toEqual([]);
  });

  it("reads back what it stored, with and without a pending candidate", async () => {
    const settled = trackedStatus();
    const pending = trackedStatus({
      subject: "roundtrip",
      pendingStatus: "CRITICAL",
      pendingReason: "lost",
      pendingCount: 2,
      updatedAtMs: T0 + 60_000,
    });
    await store.putStatus(settled);
    await store.putStatus(pending);
    expect(await store.getStatus("mx1", settled.subject)).toEqual(settled);
    expect(await store.getStatus("mx1", "roundtrip")).toEqual(pending);
  });

  it("keeps the changes still to announce, in order, and clears them when a put has none", async () => {
    const waiting = unannouncedCritical();
    await store.putStatus(waiting);
    expect(await store.getStatus("mx1", waiting.subject)).toEqual(waiting);
    const { unannounced: _sent, ...announced } = waiting;
    await store.putStatus({ ...announced, unannounced: [] });
    expect(await store.getStatus("mx1", waiting.subject)).toEqual(announced);
  });

  it("replaces a record only over the one read, and creates one only where none was read", async () => {
    const first = trackedStatus();
    expect(await store.replaceStatus(first, trackedStatus())).toBe(false);
    expect(await store.getStatus("mx1", first.subject)).toBeUndefined();
    expect(await store.replaceStatus(first, undefined)).toBe(true);
    expect(await store.replaceStatus(trackedStatus({ reason: "again" }), undefined)).toBe(false);
    const read = await store.getStatus("mx1", first.subject);
    expect(read).toEqual({ ...first, revision: 1 });

    // Same updatedAtMs, other content (an announcement struck): still a new revision.
    const next = trackedStatus({ status: "CRITICAL", reason: "refused" });
    expect(await store.replaceStatus(next, read)).toBe(true);
    // A writer that read revision 1 too is now too late, whatever its record says.
    expect(await store.replaceStatus(trackedStatus({ updatedAtMs: T0 + 120_000 }), read)).toBe(false);
    expect(await store.getStatus("mx1", first.subject)).toEqual({ ...next, revision: 2 });
  });

  it("replaces a subject's row, clearing a candidate that is gone", async () => {
    await store.putStatus(
      trackedStatus({ pendingStatus: "WARNING", pendingReason: "slow", pendingCount: 1 }),
    );
    const replaced = trackedStatus({
      status: "WARNING",
      reason: "slow",
      sinceMs: T0 + 120_000,
      updatedAtMs: T0 + 120_000,
    });
    await store.putStatus(replaced);
    expect(await store.getStatus("mx1", replaced.subject)).toEqual(replaced);
    expect(await store.listStatuses()).toHaveLength(1);
  });

  it("lists every subject of every target, ordered by target then subject", async () => {
    await store.putStatus(trackedStatus({ targetId: "mx2", subject: "roundtrip" }));
    await store.putStatus(trackedStatus({ targetId: "mx1", subject: "smtp://b.example.com" }));
    await store.putStatus(trackedStatus({ targetId: "mx1", subject: "roundtrip" }));
    await store.putStatus(trackedStatus({ targetId: "mx1", subject: "imaps://a.example.com" }));
    const keys = (await store.listStatuses()).map((s) => `${s.targetId} ${s.subject}`);
    expect(keys).toEqual([
      "mx1 imaps://a.example.com",
      "mx1 roundtrip",
      "mx1 smtp://b.example.com",
      "mx2 roundtrip",
    ]);
  });

  it("keeps the same subject of different targets apart", async () => {
    await store.putStatus(trackedStatus({ targetId: "mx1", status: "CRITICAL", reason: "refused" }));
    await store.putStatus(trackedStatus({ targetId: "mx2" }));
    expect(await store.getStatus("mx1", "smtp://mx1.example.com")).toMatchObject({ status: "CRITICAL" });
    expect(await store.getStatus("mx2", "smtp://mx1.example.com")).toMatchObject({ status: "OK" });
  });
});

describe("SqliteStatusStore", () => {
  it("keeps statuses across a reopen of the file", async () => {
    const path = join(dir, "keep.db");
    const first = await openSqlite(path);
    const status = trackedStatus({
      status: "CRITICAL",
      reason: "timeout-connect",
      pendingStatus: "OK",
      pendingReason: "ok",
      pendingCount: 1,
    });
    await new SqliteStatusStore(first.db).putStatus(status);
    first.close();
    opened.splice(opened.indexOf(first), 1);
    const second = await openSqlite(path);
    expect(await new SqliteStatusStore(second.db).getStatus(status.targetId, status.subject)).toEqual(status);
  });

  it("carries flap control across a restart: a candidate seen before it is confirmed after it", async () => {
    const path = join(dir, "flap.db");
    const observation = {
      targetId: "mx1",
      subject: "roundtrip",
      status: "CRITICAL" as const,
      reason: "lost",
      confirmAfter: 2,
    };
    const before = await openSqlite(path);
    const tracker = new StatusTracker(new SqliteStatusStore(before.db));
    await tracker.observe({ ...observation, status: "OK", reason: "ok", atMs: T0 });
    expect(await tracker.observe({ ...observation, atMs: T0 + 60_000 })).toEqual([]);
    before.close();
    opened.splice(opened.indexOf(before), 1);

    const after = await openSqlite(path);
    const restarted = new StatusTracker(new SqliteStatusStore(after.db));
    const [announcement] = await restarted.observe({ ...observation, atMs: T0 + 120_000 });
    expect(announcement?.transition).toMatchObject({
      from: "OK",
      to: "CRITICAL",
      reason: "lost",
    });
  });

  it("names the row and the fix when the file holds a status it does not know", async () => {
    const sqlite = await openSqlite();
    sqlite.db
      .prepare(
        `INSERT INTO statuses (target_id, subject, status, reason, since_ms, pending_count, updated_at_ms)
         VALUES ('mx1', 'roundtrip', 'BROKEN', 'x', 0, 0, 0)`,
      )
      .run();
    await expect(new SqliteStatusStore(sqlite.db).getStatus("mx1", "roundtrip")).rejects.toThrow(
      /\(mx1, roundtrip\).*"BROKEN".*delete the row/,
    );
  });

  it("names the row and the fix when its unannounced changes are unreadable", async () => {
    const sqlite = await openSqlite();
    sqlite.db
      .prepare(
        `INSERT INTO statuses (target_id, subject, status, reason, since_ms, pending_count, updated_at_ms, unannounced)
         VALUES ('mx1', 'roundtrip', 'OK', 'ok', 0, 0, 0, '[{"eventId": 7}]')`,
      )
      .run();
    await expect(new SqliteStatusStore(sqlite.db).getStatus("mx1", "roundtrip")).rejects.toThrow(
      /\(mx1, roundtrip\) holds unreadable unannounced changes; set the column to NULL/,
    );
  });
});
