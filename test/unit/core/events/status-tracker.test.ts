import { describe, expect, it } from "vitest";
import { newEventId } from "../../../../core/events/event-id.ts";
import type { StatusTransition } from "../../../../core/events/flap-control.ts";
import { StatusTracker } from "../../../../core/events/status-tracker.ts";
import type { Status } from "../../../../core/model/status.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { ENDPOINT, T0 } from "../../../support/event-fixtures.ts";

const MINUTE = 60_000;
const REASON_OF: Record<Status, string> = {
  OK: "ok",
  WARNING: "slow",
  CRITICAL: "timeout-connect",
  UNKNOWN: "config-error",
};

/** Feeds one result a minute; returns "from>to@index" for every change the tracker reports. */
async function changes(statuses: readonly Status[], confirmAfter: number): Promise<string[]> {
  const tracker = new StatusTracker(new MemoryStatusStore());
  const seen: string[] = [];
  for (const [index, status] of statuses.entries()) {
    const announcements = await tracker.observe({
      targetId: "mx1",
      subject: ENDPOINT,
      status,
      reason: REASON_OF[status],
      atMs: T0 + index * MINUTE,
      confirmAfter,
    });
    for (const { transition } of announcements) seen.push(`${transition.from}>${transition.to}@${index}`);
  }
  return seen;
}

const OK = "OK";
const CRIT = "CRITICAL";
const WARN = "WARNING";

describe("StatusTracker flap control", () => {
  it("establishes an OK subject silently", async () => {
    expect(await changes([OK, OK, OK], 2)).toEqual([]);
  });

  describe("confirmAfter 1: every change at once", () => {
    it("reports a single failure and the recovery after it", async () => {
      expect(await changes([OK, CRIT, OK], 1)).toEqual(["OK>CRITICAL@1", "CRITICAL>OK@2"]);
    });

    it("reports a failing first result straight away, as from OK", async () => {
      expect(await changes([CRIT], 1)).toEqual(["OK>CRITICAL@0"]);
    });
  });

  describe("confirmAfter 2", () => {
    it("ignores one dropped result", async () => {
      expect(await changes([OK, CRIT, OK, OK, CRIT, OK], 2)).toEqual([]);
    });

    it("changes on the second failure in a row, and recovers on the second OK in a row", async () => {
      expect(await changes([OK, CRIT, CRIT, CRIT, OK, CRIT, OK, OK], 2)).toEqual([
        "OK>CRITICAL@2",
        "CRITICAL>OK@7",
      ]);
    });

    it("needs the same status in a row: WARNING then CRITICAL starts the count afresh", async () => {
      expect(await changes([OK, WARN, CRIT, WARN, CRIT, CRIT], 2)).toEqual(["OK>CRITICAL@5"]);
    });

    it("moves between two failing statuses like any change", async () => {
      expect(await changes([OK, CRIT, CRIT, WARN, WARN], 2)).toEqual(["OK>CRITICAL@2", "CRITICAL>WARNING@4"]);
    });

    it("confirms a failing first result after confirmAfter results", async () => {
      expect(await changes([CRIT, CRIT], 2)).toEqual(["OK>CRITICAL@1"]);
      expect(await changes([CRIT, OK, CRIT], 2)).toEqual([]);
    });
  });

  describe("confirmAfter 3", () => {
    it("ignores two failures in a row, changes on the third", async () => {
      expect(await changes([OK, CRIT, CRIT, OK, CRIT, CRIT, CRIT], 3)).toEqual(["OK>CRITICAL@6"]);
    });

    it("needs three OKs in a row to recover", async () => {
      expect(await changes([CRIT, CRIT, CRIT, OK, OK, CRIT, OK, OK, OK], 3)).toEqual([
        "OK>CRITICAL@2",
        "CRITICAL>OK@8",
      ]);
    });
  });

  it("reports the transition's details: reasons, since, confirmations", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const base = { targetId: "mx1", subject: ENDPOINT, confirmAfter: 2 };
    await tracker.observe({ ...base, status: "OK", reason: "ok", atMs: T0 });
    await tracker.observe({ ...base, status: "CRITICAL", reason: "timeout-connect", atMs: T0 + MINUTE });
    const [announcement, ...more] = await tracker.observe({
      ...base,
      status: "CRITICAL",
      reason: "refused",
      atMs: T0 + 2 * MINUTE,
    });
    expect(more).toEqual([]);
    expect(announcement?.transition).toEqual<StatusTransition>({
      targetId: "mx1",
      subject: ENDPOINT,
      from: "OK",
      to: "CRITICAL",
      reason: "refused",
      previousReason: "ok",
      sinceMs: T0 + 2 * MINUTE,
      confirmations: 2,
    });
  });

  it("stores a reason change within the same status without reporting it", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const base = { targetId: "mx1", subject: ENDPOINT, confirmAfter: 1 };
    const first = await tracker.observe({ ...base, status: "CRITICAL", reason: "timeout-connect", atMs: T0 });
    await tracker.settle(
      first.map((announcement) => announcement.eventId),
      true,
    );
    const again = await tracker.observe({
      ...base,
      status: "CRITICAL",
      reason: "refused",
      atMs: T0 + MINUTE,
    });
    expect(again).toEqual([]);
    expect(await store.getStatus("mx1", ENDPOINT)).toEqual({
      targetId: "mx1",
      subject: ENDPOINT,
      status: "CRITICAL",
      reason: "refused",
      sinceMs: T0,
      pendingCount: 0,
      updatedAtMs: T0 + MINUTE,
      revision: 3,
    });
  });

  it("keeps the candidate in the store between results (as a restart would find it)", async () => {
    const store = new MemoryStatusStore();
    const base = { targetId: "mx1", subject: ENDPOINT, confirmAfter: 2 };
    await new StatusTracker(store).observe({ ...base, status: "OK", reason: "ok", atMs: T0 });
    await new StatusTracker(store).observe({ ...base, status: "WARNING", reason: "slow", atMs: T0 + MINUTE });
    expect(await store.getStatus("mx1", ENDPOINT)).toMatchObject({
      status: "OK",
      pendingStatus: "WARNING",
      pendingReason: "slow",
      pendingCount: 1,
    });
    const [announcement] = await new StatusTracker(store).observe({
      ...base,
      status: "WARNING",
      reason: "slow",
      atMs: T0 + 2 * MINUTE,
    });
    expect(announcement?.transition).toMatchObject({ from: "OK", to: "WARNING" });
  });

  it("ignores a result older than the newest one seen", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const base = { targetId: "mx1", subject: "roundtrip", confirmAfter: 1 };
    await tracker.observe({ ...base, status: "OK", reason: "ok", atMs: T0 + 2 * MINUTE });
    const stale = await tracker.observe({ ...base, status: "CRITICAL", reason: "lost", atMs: T0 });
    expect(stale).toEqual([]);
    expect(await store.getStatus("mx1", "roundtrip")).toMatchObject({
      status: "OK",
      updatedAtMs: T0 + 2 * MINUTE,
    });
  });

  it("keeps subjects and targets apart", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const fail = { status: "CRITICAL" as const, reason: "refused", atMs: T0, confirmAfter: 2 };
    await tracker.observe({ ...fail, targetId: "mx1", subject: ENDPOINT });
    expect(await tracker.observe({ ...fail, targetId: "mx2", subject: ENDPOINT })).toEqual([]);
    expect(await tracker.observe({ ...fail, targetId: "mx1", subject: "roundtrip" })).toEqual([]);
    expect(
      await tracker.observe({ ...fail, targetId: "mx1", subject: ENDPOINT, atMs: T0 + MINUTE }),
    ).toHaveLength(1);
  });

  it("counts one probe judged twice (lost, then bounced: the same send time) once", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const base = { targetId: "mx1", subject: "roundtrip", confirmAfter: 2 };
    await tracker.observe({ ...base, status: "OK", reason: "returned", atMs: T0 });
    await tracker.observe({ ...base, status: "CRITICAL", reason: "lost", atMs: T0 + MINUTE });
    expect(
      await tracker.observe({ ...base, status: "CRITICAL", reason: "bounced", atMs: T0 + MINUTE }),
    ).toEqual([]);
    const [change] = await tracker.observe({
      ...base,
      status: "CRITICAL",
      reason: "lost",
      atMs: T0 + 2 * MINUTE,
    });
    expect(change?.transition).toMatchObject({ from: "OK", to: "CRITICAL", confirmations: 2 });
  });

  it("applies concurrent observations of one subject one at a time", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const fail = { targetId: "mx1", subject: ENDPOINT, status: "CRITICAL" as const, reason: "refused" };
    const results = await Promise.all(
      [1, 2, 3].map((n) => tracker.observe({ ...fail, atMs: T0 + n, confirmAfter: 3 })),
    );
    expect(results.flat()).toHaveLength(1);
  });

  it("refuses a confirmAfter below 1", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    await expect(
      tracker.observe({
        targetId: "mx1",
        subject: ENDPOINT,
        status: "OK",
        reason: "ok",
        atMs: T0,
        confirmAfter: 0,
      }),
    ).rejects.toThrow(/confirmAfter/);
  });
});

describe("StatusTracker certificate reminders", () => {
  const DAY = 86_400_000;
  const claim = (tracker: StatusTracker, atMs: number, endpoint = ENDPOINT, eventId = newEventId(atMs)) =>
    tracker.claimCertificateReminder({ targetId: "mx1", endpoint, status: "WARNING", atMs, eventId });

  it("grants one reminder per endpoint per UTC day", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const midnight = Date.parse("2026-06-02T00:00:00Z");
    expect(await claim(tracker, midnight - 2 * 3_600_000)).toBe(true);
    expect(await claim(tracker, midnight - 1)).toBe(false);
    expect(await claim(tracker, midnight - 1, "imaps://mx1.example.com")).toBe(true);
    expect(await claim(tracker, midnight)).toBe(true);
    expect(await claim(tracker, midnight + DAY - 1)).toBe(false);
    expect(await claim(tracker, midnight + 3 * DAY)).toBe(true);
  });

  it("keeps its bookkeeping under a cert: subject", async () => {
    const store = new MemoryStatusStore();
    await claim(new StatusTracker(store), T0);
    expect(await store.getStatus("mx1", `cert:${ENDPOINT}`)).toMatchObject({
      status: "WARNING",
      sinceMs: T0,
    });
  });

  it("gives a claim back when its reminder was not published, and keeps it when it was", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const yesterday = "evt_01JX0000000000000000000000";
    const today = "evt_01JX0000000000000000000001";
    expect(await claim(tracker, T0 - DAY, ENDPOINT, yesterday)).toBe(true);
    await tracker.settle([yesterday], true);
    expect(await claim(tracker, T0, ENDPOINT, today)).toBe(true);
    await tracker.settle([today], false);
    // Back to yesterday's bookkeeping: today's reminder is still due.
    expect(await store.getStatus("mx1", `cert:${ENDPOINT}`)).toMatchObject({ sinceMs: T0 - DAY });
    expect(await claim(tracker, T0 + 60_000)).toBe(true);
    expect(await claim(tracker, T0 + 120_000)).toBe(false);
  });

  it("gives back a first claim too, and leaves a claim made since by another process", async () => {
    const store = new MemoryStatusStore();
    const first = new StatusTracker(store);
    const other = new StatusTracker(store);
    const refused = "evt_01JX0000000000000000000002";
    expect(await claim(first, T0, ENDPOINT, refused)).toBe(true);
    await first.settle([refused], false);
    expect(await claim(other, T0 + 60_000)).toBe(true);
    const late = "evt_01JX0000000000000000000003";
    expect(await claim(first, T0 + DAY, ENDPOINT, late)).toBe(true);
    expect(await claim(other, T0 + DAY + 1, ENDPOINT)).toBe(false);
    await other.settle([late], false); // not its claim: ignored
    expect(await store.getStatus("mx1", `cert:${ENDPOINT}`)).toMatchObject({ sinceMs: T0 + DAY });
  });
});
