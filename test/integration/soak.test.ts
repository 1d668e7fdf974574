import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Harness } from "../../tools/faults/harness.ts";
import { runSoak, soakProblems } from "../../tools/soak/soak.ts";

/*
 * The short form of `npm run soak`: a few cycles against the healthy demo host must raise
 * no alert, lose no probe and deliver every event. The long soak (200 cycles) is a release
 * check (docs/faults.md).
 */
let harness: Harness;

beforeAll(async () => {
  harness = await Harness.open();
}, 180_000);

afterAll(async () => {
  await harness?.close();
});

describe("soak on the healthy demo mail host", () => {
  it("three cycles: no status change, every probe returned, every event delivered", async () => {
    const result = await runSoak(harness, { cycles: 3, intervalMs: 0 });
    expect(soakProblems(result)).toEqual([]);
    expect(result.changes).toEqual([]);
    expect(result.roundTrips.map((r) => r.outcome)).toEqual(["returned", "returned", "returned"]);
    expect(result.checks).toHaveLength(3 * 7);
    expect(result.checks.filter((c) => c.status !== "OK")).toEqual([]);
    expect(result.eventsDelivered).toBe(result.events);
  }, 180_000);
});
