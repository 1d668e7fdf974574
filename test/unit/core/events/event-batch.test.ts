import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { EventBatch } from "../../../../core/events/event-batch.ts";
import { ResultEvents } from "../../../../core/events/result-events.ts";
import type { EventSink, PartlyKept } from "../../../../core/ports/event-sink.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import { ENDPOINT, T0 } from "../../../support/event-fixtures.ts";

/*
 * A probe outcome is stored unannounced; the batch marks it announced only once the sink holds
 * its roundtrip.completed, so a refused (or partly refused) publish leaves exactly the outcomes
 * whose events were not kept for the next cycle to announce again.
 */
const config = parseConfigText(
  JSON.stringify({
    dataDir: "/nonexistent/data",
    probeKeyFile: "/nonexistent/probe.key",
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [
      { id: "mx1", endpoints: [{ url: ENDPOINT }], probe: { to: "probe@mx1.example.com" } },
      { id: "mx2", endpoints: [{ url: ENDPOINT }], probe: { to: "probe@mx2.example.com" } },
    ],
  }),
  "event-batch-test",
);
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** A sink that refuses everything, keeps everything, or keeps all but the events of one probe. */
class ScriptedSink implements EventSink {
  mode: "keep" | "refuse" | { refuseProbe: string } = "keep";
  readonly kept: ScoutEvent[] = [];
  async publish(events: readonly ScoutEvent[]): Promise<void> {
    if (this.mode === "keep") {
      this.kept.push(...events);
      return;
    }
    if (this.mode === "refuse") throw new Error("queue refused");
    const probe = this.mode.refuseProbe;
    const refused = events.filter((event) => JSON.stringify(event.data).includes(probe));
    this.kept.push(...events.filter((event) => !refused.includes(event)));
    const ids = new Set(refused.map((event) => event.id));
    throw Object.assign(new Error("queue kept part"), {
      incompleteEventIds: ids,
      droppedEventIds: ids,
    } satisfies PartlyKept);
  }
}

async function lostProbe(store: MemoryStore, probeId: string, targetId: string): Promise<ProbeRecord> {
  await store.recordSent({
    probeId,
    targetId,
    toAddress: `probe@${targetId}.example.com`,
    messageId: `<${probeId}@scout>`,
    sentAtMs: T0,
    deadlineMs: T0 + 300_000,
  });
  return (await store.transition(probeId, ["sent"], "lost", {}, T0 + 300_001)) as ProbeRecord;
}

function setUp() {
  const store = new MemoryStore();
  const sink = new ScriptedSink();
  const results = new ResultEvents({
    config,
    statuses: new MemoryStatusStore(),
    clock: { now: () => T0 + 300_002 },
    sink,
    log: quiet,
  });
  return { store, sink, batch: new EventBatch(results, store, quiet) };
}

const unannouncedIds = async (store: MemoryStore) =>
  (await store.unannouncedOutcomes(10)).map((probe) => probe.probeId).sort();

describe("EventBatch", () => {
  it("marks an outcome announced once its roundtrip.completed is published", async () => {
    const { store, sink, batch } = setUp();
    await batch.addRoundTrip(await lostProbe(store, "probeAAAAAAAAAAAAAAA", "mx1"));
    expect(await unannouncedIds(store)).toEqual(["probeAAAAAAAAAAAAAAA"]);
    expect(await batch.publish()).toBe(sink.kept.length);
    expect(sink.kept.map((event) => event.type)).toContain("roundtrip.completed");
    expect(await unannouncedIds(store)).toEqual([]);
  });

  it("leaves every outcome unannounced when the sink refuses, and throws its error", async () => {
    const { store, sink, batch } = setUp();
    sink.mode = "refuse";
    await batch.addRoundTrip(await lostProbe(store, "probeAAAAAAAAAAAAAAA", "mx1"));
    await expect(batch.publish()).rejects.toThrow("queue refused");
    expect(await unannouncedIds(store)).toEqual(["probeAAAAAAAAAAAAAAA"]);
  });

  it("marks only the outcomes whose events a partly kept publish kept", async () => {
    const { store, sink, batch } = setUp();
    sink.mode = { refuseProbe: "probeBBBBBBBBBBBBBBB" };
    await batch.addRoundTrip(await lostProbe(store, "probeAAAAAAAAAAAAAAA", "mx1"));
    await batch.addRoundTrip(await lostProbe(store, "probeBBBBBBBBBBBBBBB", "mx2"));
    await expect(batch.publish()).rejects.toThrow("queue kept part");
    expect(await unannouncedIds(store)).toEqual(["probeBBBBBBBBBBBBBBB"]);
  });

  it("gives an outcome announced again the same event id", async () => {
    const { store, sink, batch } = setUp();
    const probe = await lostProbe(store, "probeAAAAAAAAAAAAAAA", "mx1");
    sink.mode = "refuse";
    await batch.addRoundTrip(probe);
    await expect(batch.publish()).rejects.toThrow();
    sink.mode = "keep";
    const [leftover] = await store.unannouncedOutcomes(10);
    await batch.addRoundTrip(leftover as ProbeRecord);
    await batch.publish();
    const completed = sink.kept.filter((event) => event.type === "roundtrip.completed");
    expect(completed).toHaveLength(1);
    const again = setUp();
    const fresh = await lostProbe(again.store, "probeAAAAAAAAAAAAAAA", "mx1");
    await again.batch.addRoundTrip(fresh);
    await again.batch.publish();
    expect(again.sink.kept.find((event) => event.type === "roundtrip.completed")?.id).toBe(completed[0]?.id);
  });
});
