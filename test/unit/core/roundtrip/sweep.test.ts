import { describe, expect, it } from "vitest";
import type { NewProbe } from "../../../../core/ports/probe-store.ts";
import { sweepOverdue } from "../../../../core/roundtrip/sweep.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";

const t0 = Date.UTC(2023, 10, 28, 12, 0, 0);

function probe(n: number, deadlineMs: number): NewProbe {
  const probeId = `sweepProbe-${String(n).padStart(8, "0")}`;
  return {
    probeId,
    targetId: "mx1.scout.test",
    toAddress: "probe@mx1.scout.test",
    messageId: `<${probeId}@x>`,
    sentAtMs: t0,
    deadlineMs,
  };
}

describe("sweepOverdue", () => {
  it("moves every sent probe past its deadline to lost, and nothing else", async () => {
    const store = new MemoryStore();
    await store.recordSent(probe(1, t0 + 1_000));
    await store.recordSent(probe(2, t0 + 2_000));
    await store.recordSent(probe(3, t0 + 60_000));
    await store.recordSent(probe(4, t0 + 1_000));
    await store.transition(probe(4, 0).probeId, ["sent"], "returned", { rttMs: 500 }, t0 + 500);
    const clock = { now: () => t0 + 10_000 };

    const swept = await sweepOverdue(store, clock);

    expect(swept.map((p) => [p.probeId, p.state, p.updatedAtMs])).toEqual([
      [probe(1, 0).probeId, "lost", t0 + 10_000],
      [probe(2, 0).probeId, "lost", t0 + 10_000],
    ]);
    expect((await store.get(probe(3, 0).probeId))?.state).toBe("sent");
    expect((await store.get(probe(4, 0).probeId))?.state).toBe("returned");
    expect(await sweepOverdue(store, clock)).toEqual([]);
  });

  it("takes at most `limit` per call; the next call takes the rest", async () => {
    const store = new MemoryStore();
    for (let n = 1; n <= 3; n += 1) await store.recordSent(probe(n, t0 + n));
    const clock = { now: () => t0 + 10 };
    expect(await sweepOverdue(store, clock, { limit: 2 })).toHaveLength(2);
    expect((await sweepOverdue(store, clock, { limit: 2 })).map((p) => p.probeId)).toEqual([
      probe(3, 0).probeId,
    ]);
  });

  it("moves only the probes it owns: two sweeps with complementary owners move each probe once", async () => {
    const store = new MemoryStore();
    const ofTarget = (n: number, targetId: string) => ({ ...probe(n, t0 + 1_000), targetId });
    await store.recordSent(ofTarget(1, "mx-a"));
    await store.recordSent(ofTarget(2, "mx-b"));
    await store.recordSent(ofTarget(3, "mx-a"));
    const clock = { now: () => t0 + 5_000 };

    const [a, b] = await Promise.all([
      sweepOverdue(store, clock, { owns: (target) => target === "mx-a" }),
      sweepOverdue(store, clock, { owns: (target) => target !== "mx-a" }),
    ]);

    expect(a.map((p) => p.probeId)).toEqual([probe(1, 0).probeId, probe(3, 0).probeId]);
    expect(b.map((p) => p.probeId)).toEqual([probe(2, 0).probeId]);
    expect(await sweepOverdue(store, clock)).toEqual([]);
  });

  it("loses cleanly to a return that lands between the query and the write", async () => {
    const store = new MemoryStore();
    await store.recordSent(probe(1, t0 + 1_000));
    await store.recordSent(probe(2, t0 + 1_000));
    // A correlator running at the same moment: it returns probe 1 right after the sweep's query.
    const racing = Object.assign(Object.create(store) as MemoryStore, {
      overdue: async (nowMs: number, limit: number) => {
        const due = await store.overdue(nowMs, limit);
        await store.transition(probe(1, 0).probeId, ["sent"], "returned", { rttMs: 1_500 }, nowMs);
        return due;
      },
    });

    const swept = await sweepOverdue(racing, { now: () => t0 + 5_000 });

    expect(swept.map((p) => p.probeId)).toEqual([probe(2, 0).probeId]);
    expect(await store.get(probe(1, 0).probeId)).toMatchObject({ state: "returned", rttMs: 1_500 });
  });
});
