import { describe, expect, it } from "vitest";
import { EVENT_ID_PATTERN } from "../../../../core/events/event-id.ts";
import {
  MAX_UNANNOUNCED,
  type StatusAnnouncement,
  StatusTracker,
} from "../../../../core/events/status-tracker.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { ENDPOINT, T0 } from "../../../support/event-fixtures.ts";

/*
 * What the StatusTracker keeps safe across failures: a confirmed change stays in its record
 * until its event is queued, and two processes writing one record never undo each other.
 */
const MINUTE = 60_000;

describe("StatusTracker announcements: a confirmed change is kept until its event is queued", () => {
  const base = { targetId: "mx1", subject: ENDPOINT, confirmAfter: 1 };
  const critical = (atMs: number) => ({ ...base, status: "CRITICAL" as const, reason: "refused", atMs });
  const ids = (announcements: readonly StatusAnnouncement[]) => announcements.map((a) => a.eventId);

  it("saves the change with its event id and time, and strikes it once settled as published", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const [announcement, ...more] = await tracker.observe(critical(T0), T0 + 5);
    expect(more).toEqual([]);
    expect(announcement?.eventId).toMatch(EVENT_ID_PATTERN);
    expect(announcement?.eventAtMs).toBe(T0 + 5);
    expect((await store.getStatus("mx1", ENDPOINT))?.unannounced).toEqual([
      {
        eventId: announcement?.eventId,
        eventAtMs: T0 + 5,
        from: "OK",
        to: "CRITICAL",
        reason: "refused",
        previousReason: "initial",
        sinceMs: T0,
        confirmations: 1,
      },
    ]);
    await tracker.settle(ids([announcement as StatusAnnouncement]), true);
    const settled = await store.getStatus("mx1", ENDPOINT);
    expect(settled).toMatchObject({ status: "CRITICAL", updatedAtMs: T0 });
    expect(settled).not.toHaveProperty("unannounced");
  });

  it("offers a change whose event was not published again, with the same id and time", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const first = await tracker.observe(critical(T0), T0 + 5);
    expect(await tracker.observe(critical(T0 + MINUTE))).toEqual([]);
    await tracker.settle(ids(first), false);
    const again = await tracker.observe(critical(T0 + 2 * MINUTE));
    expect(again).toEqual(first);
    await tracker.settle(ids(again), true);
    expect(await tracker.observe(critical(T0 + 3 * MINUTE))).toEqual([]);
  });

  it("offers what a crashed process never settled to the next one, oldest first", async () => {
    const store = new MemoryStatusStore();
    const crashed = new StatusTracker(store);
    const down = await crashed.observe(critical(T0));
    const up = await crashed.observe({ ...base, status: "OK", reason: "ok", atMs: T0 + MINUTE });
    const restarted = new StatusTracker(store);
    const offered = await restarted.observe({ ...base, status: "OK", reason: "ok", atMs: T0 + 2 * MINUTE });
    expect(offered).toEqual([...down, ...up]);
    expect(offered.map((a) => `${a.transition.from}>${a.transition.to}`)).toEqual([
      "OK>CRITICAL",
      "CRITICAL>OK",
    ]);
  });

  it("offers a stale subject's unannounced change too (an old result changes nothing else)", async () => {
    const store = new MemoryStatusStore();
    const first = await new StatusTracker(store).observe(critical(T0 + MINUTE));
    expect(await new StatusTracker(store).observe(critical(T0))).toEqual(first);
  });

  it(`keeps at most ${MAX_UNANNOUNCED} unannounced changes, the newest`, async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const offered: StatusAnnouncement[] = [];
    for (let n = 0; n < MAX_UNANNOUNCED + 4; n++) {
      const status = n % 2 === 0 ? ("CRITICAL" as const) : ("OK" as const);
      offered.push(...(await tracker.observe({ ...base, status, reason: "x", atMs: T0 + n * MINUTE })));
    }
    const kept = (await store.getStatus("mx1", ENDPOINT))?.unannounced ?? [];
    expect(kept.map((change) => change.eventId)).toEqual(ids(offered.slice(-MAX_UNANNOUNCED)));
  });

  it("ignores ids it never offered, and strikes only the settled ones", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const down = await tracker.observe(critical(T0));
    const up = await tracker.observe({ ...base, status: "OK", reason: "ok", atMs: T0 + MINUTE });
    await tracker.settle(["evt_00000000000000000000000000", ...ids(up)], true);
    expect((await store.getStatus("mx1", ENDPOINT))?.unannounced?.map((c) => c.eventId)).toEqual(ids(down));
  });
});

describe("StatusTracker with two processes on one store", () => {
  const base = { targetId: "mx1", subject: "roundtrip", confirmAfter: 2 };

  it("loses no count and confirms a change once when both observe at the same moment", async () => {
    const store = new MemoryStatusStore();
    const sweep = new StatusTracker(store);
    const correlator = new StatusTracker(store);
    await sweep.observe({ ...base, status: "OK", reason: "returned", atMs: T0 });
    // Both read "OK, no candidate", then write: the second write must see the first.
    const [swept, correlated] = await Promise.all([
      sweep.observe({ ...base, status: "CRITICAL", reason: "lost", atMs: T0 + MINUTE }),
      correlator.observe({ ...base, status: "CRITICAL", reason: "bounced", atMs: T0 + 2 * MINUTE }),
    ]);
    expect([...(swept ?? []), ...(correlated ?? [])].map((a) => a.transition.to)).toEqual(["CRITICAL"]);
    expect(await store.getStatus("mx1", "roundtrip")).toMatchObject({
      status: "CRITICAL",
      reason: "bounced",
      pendingCount: 0,
      updatedAtMs: T0 + 2 * MINUTE,
    });
  });

  it("applies a result again to a record another writer changed after it was read", async () => {
    const store = new MemoryStatusStore();
    await new StatusTracker(store).observe({ ...base, status: "OK", reason: "returned", atMs: T0 });
    const replace = store.replaceStatus.bind(store);
    let raced = false;
    store.replaceStatus = async (next, read) => {
      if (!raced) {
        raced = true;
        // The other process's candidate lands between our read and our write.
        await new StatusTracker(store).observe({
          ...base,
          status: "CRITICAL",
          reason: "lost",
          atMs: T0 + MINUTE,
        });
      }
      return replace(next, read);
    };
    const [announcement] = await new StatusTracker(store).observe({
      ...base,
      status: "CRITICAL",
      reason: "bounced",
      atMs: T0 + 2 * MINUTE,
    });
    expect(announcement?.transition).toMatchObject({ from: "OK", to: "CRITICAL", confirmations: 2 });
  });

  it("two processes striking different announcements of one record leave neither behind", async () => {
    const store = new MemoryStatusStore();
    const prober = new StatusTracker(store);
    const correlator = new StatusTracker(store);
    const once = { ...base, confirmAfter: 1 };
    const [down] = await prober.observe({ ...once, status: "CRITICAL", reason: "lost", atMs: T0 });
    // The correlator is offered the prober's change too (still waiting, same id) and its own.
    const offered = await correlator.observe({
      ...once,
      status: "OK",
      reason: "returned",
      atMs: T0 + MINUTE,
    });
    expect(offered.map((a) => a.eventId)).toEqual([down?.eventId, expect.any(String)]);
    const up = offered[1] as StatusAnnouncement;
    // Both queue their events; the correlator strikes its own between the prober's read and write.
    // Neither strike may bring the other's back: the record is written with the same time each time.
    const replace = store.replaceStatus.bind(store);
    store.replaceStatus = async (next, read) => {
      store.replaceStatus = replace;
      await correlator.settle([up.eventId], true);
      return replace(next, read);
    };
    await prober.settle([down?.eventId as string], true);
    const stored = await store.getStatus("mx1", "roundtrip");
    expect(stored).toMatchObject({ status: "OK", updatedAtMs: T0 + MINUTE });
    expect(stored).not.toHaveProperty("unannounced");
  });

  it("gives up, naming the subject, when the record changes under every write", async () => {
    const store = new MemoryStatusStore();
    store.replaceStatus = async () => false;
    await expect(
      new StatusTracker(store).observe({ ...base, status: "CRITICAL", reason: "lost", atMs: T0 }),
    ).rejects.toThrow(/status of roundtrip of mx1 changed under 5 writes in a row/);
  });
});
