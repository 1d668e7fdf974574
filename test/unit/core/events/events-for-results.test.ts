import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { eventsForCheckResults } from "../../../../core/events/events-for-checks.ts";
import { eventsForRoundTrip } from "../../../../core/events/events-for-roundtrip.ts";
import { StatusTracker } from "../../../../core/events/status-tracker.ts";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { checkResult, DAY_MS, ENDPOINT, probeRecord, T0, tlsFacts } from "../../../support/event-fixtures.ts";
import { schemaErrors } from "../../../support/event-schema.ts";

const MINUTE = 60_000;
const IMAPS = "imaps://mx1.example.com";

function at(ms: number, overrides: Partial<CheckResult> = {}): CheckResult {
  return checkResult({ startedAt: new Date(ms).toISOString(), ...overrides });
}

const refused = {
  status: "CRITICAL" as const,
  reason: "refused" as const,
  message: "connect ECONNREFUSED",
  tls: undefined,
};

describe("eventsForCheckResults", () => {
  const cycle = (tracker: StatusTracker, results: CheckResult[], now: number) =>
    eventsForCheckResults({ tracker, targetId: "mx1", customer: "acme", confirmAfter: 2, results, now });

  it("gives a check.completed per result, and a status.changed once a change is confirmed", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const first = await cycle(tracker, [at(T0), at(T0, { endpoint: IMAPS, kind: "imaps" })], T0);
    expect(first.map((e) => e.type)).toEqual(["check.completed", "check.completed"]);

    const second = await cycle(tracker, [at(T0 + MINUTE, refused)], T0 + MINUTE);
    expect(second.map((e) => e.type)).toEqual(["check.completed"]);

    const third = await cycle(tracker, [at(T0 + 2 * MINUTE, refused)], T0 + 2 * MINUTE);
    expect(third.map((e) => e.type)).toEqual(["check.completed", "status.changed"]);
    expect(third[1]).toMatchObject({
      customer: "acme",
      target: "mx1",
      data: { subject: ENDPOINT, from: "OK", to: "CRITICAL", reason: "refused", recovered: false },
    });
    for (const event of [...first, ...second, ...third]) expect(schemaErrors(event)).toEqual([]);
  });

  it("confirms a posture subject's change after postureConfirmAfter results, a service check's after confirmAfter", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const posture = { ...refused, endpoint: "posture:spf", reason: "spf-pass-all" as const };
    const run = (ms: number, postureConfirmAfter: number) =>
      eventsForCheckResults({
        tracker,
        targetId: "mx1",
        customer: "acme",
        confirmAfter: 2,
        postureConfirmAfter,
        results: [at(ms, refused), at(ms, posture)],
        now: ms,
      });
    const changed = (events: Awaited<ReturnType<typeof run>>) =>
      events.filter((event) => event.type === "status.changed").map((event) => event.data.subject);
    expect(changed(await run(T0, 1))).toEqual(["posture:spf"]);
    expect(changed(await run(T0 + MINUTE, 1))).toEqual([ENDPOINT]);
  });

  it("gives back a status change it made when a later step fails, so the next result offers it", async () => {
    const store = new MemoryStatusStore();
    const tracker = new StatusTracker(store);
    const failing = (ms: number) => at(ms, { status: "WARNING", reason: "cert-expiring", tls: tlsFacts(5) });
    // The next day's reminder: the cert: subject is written again.
    await cycle(tracker, [failing(T0 - DAY_MS)], T0 - DAY_MS);
    const replace = store.replaceStatus.bind(store);
    store.replaceStatus = async (next, read) => {
      if (next.subject.startsWith("cert:")) throw new Error("store unavailable");
      return replace(next, read);
    };
    await expect(cycle(tracker, [failing(T0 + MINUTE)], T0 + MINUTE)).rejects.toThrow(/store unavailable/);
    store.replaceStatus = replace;
    const next = await cycle(tracker, [failing(T0 + 2 * MINUTE)], T0 + 2 * MINUTE);
    expect(next.map((event) => event.type)).toEqual([
      "check.completed",
      "status.changed",
      "certificate.expiring",
    ]);
    expect(next[1]).toMatchObject({ time: new Date(T0 + MINUTE).toISOString(), data: { to: "WARNING" } });
  });

  it("reminds of an expiring certificate once per endpoint per UTC day", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const expiring = (ms: number, daysLeft: number) => [
      at(ms, { tls: tlsFacts(daysLeft) }),
      at(ms, { endpoint: IMAPS, kind: "imaps", tls: tlsFacts(daysLeft) }),
    ];
    const first = await cycle(tracker, expiring(T0, 21), T0);
    const reminders = first.filter((e) => e.type === "certificate.expiring");
    expect(reminders.map((e) => e.data.endpoint)).toEqual([ENDPOINT, IMAPS]);
    expect(reminders[0]?.data).toMatchObject({ daysLeft: 21, thresholdDays: 21, status: "WARNING" });
    for (const event of first) expect(schemaErrors(event)).toEqual([]);

    const laterToday = await cycle(tracker, expiring(T0 + 60 * MINUTE, 21), T0 + 60 * MINUTE);
    expect(laterToday.filter((e) => e.type === "certificate.expiring")).toEqual([]);

    const tomorrow = await cycle(tracker, expiring(T0 + DAY_MS, 6), T0 + DAY_MS);
    const next = tomorrow.filter((e) => e.type === "certificate.expiring");
    expect(next).toHaveLength(2);
    expect(next[0]?.data).toMatchObject({ daysLeft: 6, status: "CRITICAL" });
  });

  it("stays quiet about a certificate above the warning days", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    const events = await cycle(tracker, [at(T0, { tls: tlsFacts(22) })], T0);
    expect(events.map((e) => e.type)).toEqual(["check.completed"]);
  });
});

describe("eventsForRoundTrip", () => {
  const thresholds = { warningMs: 30_000, criticalMs: 120_000 };
  const outcome = (tracker: StatusTracker, probe: ProbeRecord, confirmAfter = 2) =>
    eventsForRoundTrip({
      tracker,
      customer: "acme",
      confirmAfter,
      probe,
      thresholds,
      now: probe.updatedAtMs,
    });
  const lost = (n: number) =>
    probeRecord({
      probeId: `p_lost${n}xxxxxxxxxxx`,
      state: "lost",
      sentAtMs: T0 + n * MINUTE,
      updatedAtMs: T0 + n * MINUTE + 300_000,
      returnedAtMs: undefined,
      rttMs: undefined,
      hops: undefined,
    });
  const returned = (n: number) =>
    probeRecord({
      probeId: `p_back${n}xxxxxxxxxxx`,
      sentAtMs: T0 + n * MINUTE,
      updatedAtMs: T0 + n * MINUTE + 4_000,
    });

  it("gives roundtrip.completed, then status.changed for the roundtrip subject once confirmed", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    expect((await outcome(tracker, returned(0))).map((e) => e.type)).toEqual(["roundtrip.completed"]);
    expect((await outcome(tracker, lost(1))).map((e) => e.type)).toEqual(["roundtrip.completed"]);
    const confirmed = await outcome(tracker, lost(2));
    expect(confirmed.map((e) => e.type)).toEqual(["roundtrip.completed", "status.changed"]);
    expect(confirmed[1]?.data).toMatchObject({
      subject: "roundtrip",
      from: "OK",
      to: "CRITICAL",
      reason: "lost",
    });
    await outcome(tracker, returned(3));
    const recovered = await outcome(tracker, returned(4));
    expect(recovered[1]?.data).toMatchObject({ subject: "roundtrip", to: "OK", recovered: true });
    for (const event of [...confirmed, ...recovered]) expect(schemaErrors(event)).toEqual([]);
  });

  it("lets no older probe's outcome overrule a newer probe's", async () => {
    const tracker = new StatusTracker(new MemoryStatusStore());
    await outcome(tracker, returned(5), 1);
    // Probe 4 was sent before probe 5 but only swept as lost afterwards.
    const events = await outcome(tracker, lost(4), 1);
    expect(events.map((e) => e.type)).toEqual(["roundtrip.completed"]);
  });
});
