import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { ResultEvents } from "../../../../core/events/result-events.ts";
import type { EventSink } from "../../../../core/ports/event-sink.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { checkResult, ENDPOINT, T0, tlsFacts } from "../../../support/event-fixtures.ts";

/*
 * A status change and its status.changed event: the change is saved first, so a queue that
 * refuses the event (or a crash before it is queued) must not lose it. It comes again with the
 * next result of that subject, with the same id, until the queue takes it.
 */
const MINUTE = 60_000;
const config = parseConfigText(
  JSON.stringify({
    dataDir: "/nonexistent/data",
    probeKeyFile: "/nonexistent/probe.key",
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [{ id: "mx1", confirmAfter: 1, endpoints: [{ url: ENDPOINT }] }],
  }),
  "result-events-test",
);

/** A queue that refuses while `down` is true, and keeps what it took. */
class FlakyQueue implements EventSink {
  down = false;
  readonly queued: ScoutEvent[] = [];
  async publish(events: readonly ScoutEvent[]): Promise<void> {
    if (this.down) throw new Error("queue unavailable");
    this.queued.push(...events);
  }
}

const warnings: string[] = [];
const log: Logger = { info() {}, warn: (message) => warnings.push(message), error() {} };

function refusedAt(ms: number) {
  return checkResult({
    startedAt: new Date(ms).toISOString(),
    status: "CRITICAL",
    reason: "refused",
    message: "connect ECONNREFUSED",
    tls: undefined,
  });
}

async function cycle(events: ResultEvents, atMs: number): Promise<void> {
  await events.publish(await events.forChecks("mx1", [refusedAt(atMs)]));
}

describe("ResultEvents and a queue that refuses", () => {
  it("sends the status.changed a refused publish lost with the next result, same id, once", async () => {
    const statuses = new MemoryStatusStore();
    const queue = new FlakyQueue();
    let now = T0;
    const events = new ResultEvents({ config, statuses, clock: { now: () => now }, sink: queue, log });

    queue.down = true;
    await expect(cycle(events, T0)).rejects.toThrow(/queue unavailable/);
    expect((await statuses.getStatus("mx1", ENDPOINT))?.status).toBe("CRITICAL");
    expect((await statuses.getStatus("mx1", ENDPOINT))?.unannounced).toHaveLength(1);

    queue.down = false;
    now = T0 + MINUTE;
    await cycle(events, T0 + MINUTE);
    const changed = queue.queued.filter((event) => event.type === "status.changed");
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      time: new Date(T0).toISOString(),
      data: { from: "OK", to: "CRITICAL" },
    });
    expect(await statuses.getStatus("mx1", ENDPOINT)).not.toHaveProperty("unannounced");

    now = T0 + 2 * MINUTE;
    await cycle(events, T0 + 2 * MINUTE);
    expect(queue.queued.filter((event) => event.type === "status.changed")).toHaveLength(1);
    expect(queue.queued.filter((event) => event.type === "check.completed")).toHaveLength(2);
  });

  it("leaves the change to a restarted process when one dies between the status and the queue", async () => {
    const statuses = new MemoryStatusStore();
    const queue = new FlakyQueue();
    const clock = { now: () => T0 };
    // The first process builds its events (saving the status) and dies before publishing.
    const dying = new ResultEvents({ config, statuses, clock, sink: queue, log });
    const lost = await dying.forChecks("mx1", [refusedAt(T0)]);
    const lostChange = lost.find((event) => event.type === "status.changed");
    expect(lostChange).toBeDefined();

    const restarted = new ResultEvents({ config, statuses, clock, sink: queue, log });
    await cycle(restarted, T0 + MINUTE);
    expect(queue.queued.filter((event) => event.type === "status.changed")).toEqual([lostChange]);
  });

  it("publishes and logs a warning when the status record cannot be cleared", async () => {
    const statuses = new MemoryStatusStore();
    const queue = new FlakyQueue();
    const events = new ResultEvents({ config, statuses, clock: { now: () => T0 }, sink: queue, log });
    const built = await events.forChecks("mx1", [refusedAt(T0)]);
    statuses.putStatus = async () => {
      throw new Error("disk full");
    };
    warnings.length = 0;
    await events.publish(built);
    expect(queue.queued.map((event) => event.type)).toEqual(["check.completed", "status.changed"]);
    expect(warnings).toEqual(["cannot mark status changes as announced"]);
  });

  it("reminds of an expiring certificate with the next result when the queue refused the reminder", async () => {
    const statuses = new MemoryStatusStore();
    const queue = new FlakyQueue();
    const events = new ResultEvents({ config, statuses, clock: { now: () => T0 }, sink: queue, log });
    const expiring = (ms: number) => checkResult({ startedAt: new Date(ms).toISOString(), tls: tlsFacts(5) });
    queue.down = true;
    await expect(events.publish(await events.forChecks("mx1", [expiring(T0)]))).rejects.toThrow();
    queue.down = false;
    await events.publish(await events.forChecks("mx1", [expiring(T0 + MINUTE)]));
    await events.publish(await events.forChecks("mx1", [expiring(T0 + 2 * MINUTE)]));
    expect(queue.queued.filter((event) => event.type === "certificate.expiring")).toHaveLength(1);
  });

  it("after a partly kept publish, sends the incomplete status change again but not a reminder one endpoint got", async () => {
    const statuses = new MemoryStatusStore();
    const published: ScoutEvent[][] = [];
    let partly = true;
    // Two endpoints: each tracked event reached the first, none the second.
    const sink: EventSink = {
      async publish(events) {
        published.push([...events]);
        if (!partly) return;
        const tracked = new Set(events.filter((e) => e.type !== "check.completed").map((e) => e.id));
        throw Object.assign(new Error("1 of 2 deliveries not queued"), {
          incompleteEventIds: tracked,
          droppedEventIds: new Set<string>(),
        });
      },
    };
    const events = new ResultEvents({ config, statuses, clock: { now: () => T0 }, sink, log });
    const failing = (ms: number) =>
      checkResult({
        startedAt: new Date(ms).toISOString(),
        status: "CRITICAL",
        reason: "refused",
        tls: tlsFacts(5),
      });
    await expect(events.publish(await events.forChecks("mx1", [failing(T0)]))).rejects.toThrow(/not queued/);
    partly = false;
    await events.publish(await events.forChecks("mx1", [failing(T0 + MINUTE)]));
    const [first, second] = published.map((batch) => batch.map((event) => event.type));
    expect(first).toEqual(["check.completed", "status.changed", "certificate.expiring"]);
    expect(second).toEqual(["check.completed", "status.changed"]);
    expect(published[1]?.[1]?.id).toBe(published[0]?.[1]?.id);
  });

  it("reports the queue's error and still strikes what was queued when a give-back fails too", async () => {
    const statuses = new MemoryStatusStore();
    const sink: EventSink = {
      async publish(events) {
        const reminders = new Set(events.filter((e) => e.type === "certificate.expiring").map((e) => e.id));
        throw Object.assign(new Error("reminder not queued"), {
          incompleteEventIds: reminders,
          droppedEventIds: reminders,
        });
      },
    };
    const events = new ResultEvents({ config, statuses, clock: { now: () => T0 }, sink, log });
    const built = await events.forChecks("mx1", [
      checkResult({ status: "CRITICAL", reason: "refused", tls: tlsFacts(5) }),
    ]);
    const replace = statuses.replaceStatus.bind(statuses);
    statuses.replaceStatus = async (next, read) => {
      if (next.subject.startsWith("cert:")) throw new Error("store unavailable");
      return replace(next, read);
    };
    warnings.length = 0;
    await expect(events.publish(built)).rejects.toThrow("reminder not queued");
    expect(warnings).toEqual(["cannot give back certificate reminders of events not queued"]);
    expect(await statuses.getStatus("mx1", ENDPOINT)).not.toHaveProperty("unannounced");
  });
});
