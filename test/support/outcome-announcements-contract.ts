import { expect, it } from "vitest";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { type ContractOptions, DEADLINE, probe, type Store, T0 } from "./probe-store-fixtures.ts";

/**
 * The outcome-announcement cases of the probe-store contract: every outcome written starts
 * unannounced, and is marked announced only at the state it was announced in.
 */
export function describeAnnouncementCases<S extends Store>(
  current: () => S,
  options: ContractOptions<S>,
): void {
  // Each case reads the store its beforeEach made.
  const store = new Proxy({} as S, {
    get: (_, key) => {
      const real = current();
      const value = Reflect.get(real, key);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
  const unannounced = async (limit = 10) =>
    (await store.unannouncedOutcomes(limit)).map((p) => [p.probeId, p.state]);

  it("leaves a transition's outcome unannounced, the whole record listed; a sent probe has none", async () => {
    await store.recordSent(probe("p1"));
    expect(await store.unannouncedOutcomes(10)).toEqual([]);
    const returned = await store.transition("p1", ["sent"], "returned", { rttMs: 4_000 }, T0 + 4_000);
    expect(await store.unannouncedOutcomes(10)).toEqual([returned]);
  });

  it("starts a send failure unannounced", async () => {
    await store.recordSendFailed(probe("p1"), "relay refused", T0 + 1);
    expect(await store.unannouncedOutcomes(10)).toEqual([await store.get("p1")]);
  });

  it("marks an outcome announced at the state it was announced in", async () => {
    await store.recordSent(probe("p1"));
    await store.transition("p1", ["sent"], "lost", {}, T0 + DEADLINE + 1);
    await store.recordSendFailed(probe("p2"), "relay refused", T0 + 1);
    await store.markOutcomesAnnounced([
      { probeId: "p1", state: "lost" },
      { probeId: "p2", state: "send-failed" },
    ]);
    expect(await unannounced()).toEqual([]);
    expect(await store.get("p1")).toMatchObject({ state: "lost" });
  });

  it("keeps a newer outcome unannounced when the older one is marked after the probe moved on", async () => {
    await store.recordSent(probe("p1"));
    await store.transition("p1", ["sent"], "lost", {}, T0 + DEADLINE + 1);
    await store.transition("p1", ["lost"], "late", { rttMs: DEADLINE + 5 }, T0 + DEADLINE + 5);
    await store.markOutcomesAnnounced([{ probeId: "p1", state: "lost" }]);
    expect(await unannounced()).toEqual([["p1", "late"]]);
    await store.markOutcomesAnnounced([{ probeId: "p1", state: "late" }]);
    expect(await unannounced()).toEqual([]);
  });

  it("lists a probe's next outcome again after the earlier one was announced", async () => {
    await store.recordSent(probe("p1"));
    await store.transition("p1", ["sent"], "lost", {}, T0 + DEADLINE + 1);
    await store.markOutcomesAnnounced([{ probeId: "p1", state: "lost" }]);
    await store.transition("p1", ["lost"], "bounced", { bounce: { status: "5.1.1" } }, T0 + DEADLINE + 9);
    expect(await unannounced()).toEqual([["p1", "bounced"]]);
  });

  it("changes nothing when marking an unknown probe or one still sent", async () => {
    await store.recordSent(probe("p1"));
    await store.markOutcomesAnnounced([
      { probeId: "nope", state: "returned" },
      { probeId: "p1", state: "sent" },
    ]);
    expect(await store.get("nope")).toBeUndefined();
    await store.transition("p1", ["sent"], "returned", {}, T0 + 5);
    expect(await unannounced()).toEqual([["p1", "returned"]]);
  });

  it("lists the oldest outcomes first (by the time written), as many as asked", async () => {
    for (const id of ["a", "b", "c", "d"]) await store.recordSent(probe(id));
    await store.transition("c", ["sent"], "returned", {}, T0 + 300);
    await store.recordSendFailed(probe("e"), "x", T0 + 100);
    await store.transition("a", ["sent"], "lost", {}, T0 + 400);
    await store.transition("d", ["sent"], "bounced", {}, T0 + 200);
    expect(await unannounced(10)).toEqual([
      ["e", "send-failed"],
      ["d", "bounced"],
      ["c", "returned"],
      ["a", "lost"],
    ]);
    expect(await unannounced(2)).toEqual([
      ["e", "send-failed"],
      ["d", "bounced"],
    ]);
  });

  if (options.writeOldProbe !== undefined) {
    const writeOldProbe = options.writeOldProbe;
    it("counts a probe written before announcements were kept as announced, until its next outcome", async () => {
      const old: ProbeRecord = { ...probe("old"), state: "lost", updatedAtMs: T0 + DEADLINE + 1 };
      await writeOldProbe(store, old);
      expect(await store.get("old")).toEqual(old);
      expect(await store.unannouncedOutcomes(10)).toEqual([]);
      await store.transition("old", ["lost"], "late", { rttMs: DEADLINE + 7 }, T0 + DEADLINE + 7);
      expect(await unannounced()).toEqual([["old", "late"]]);
    });
  }
}
