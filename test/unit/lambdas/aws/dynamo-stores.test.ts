import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StatusTracker } from "../../../../core/events/status-tracker.ts";
import { DynamoCheckStore } from "../../../../lambdas/aws/dynamo-check-store.ts";
import { documentClient } from "../../../../lambdas/aws/dynamo-client.ts";
import { DynamoProbeStore } from "../../../../lambdas/aws/dynamo-probe-store.ts";
import { DynamoStatusStore } from "../../../../lambdas/aws/dynamo-status-store.ts";
import { expiresAtSeconds } from "../../../../lambdas/aws/results-table.ts";
import {
  createScoutTables,
  type DynamoStandIn,
  startDynalite,
  useFakeAwsEnvironment,
} from "../../../support/aws-standins.ts";
import {
  checkResult,
  describeProbeStoreContract,
  probe,
  type Store,
} from "../../../support/probe-store-contract.ts";
import { trackedStatus, unannouncedCritical } from "../../../support/tracked-status.ts";

useFakeAwsEnvironment();
const T0 = Date.parse("2026-06-01T00:00:00Z");
const RETENTION_DAYS = 30;
let dynamo: DynamoStandIn;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

/** Both DynamoDB stores on a fresh pair of tables, as one object the shared contract can test. */
async function freshStores() {
  const doc = documentClient(dynamo.client);
  const tables = await createScoutTables(dynamo.client);
  const probes = new DynamoProbeStore({
    doc,
    ...tables,
    retentionDays: RETENTION_DAYS,
    clock: { now: () => T0 + 3_600_000 },
  });
  const checks = new DynamoCheckStore({ doc, table: tables.resultsTable, retentionDays: RETENTION_DAYS });
  const statuses = new DynamoStatusStore({ doc, table: tables.resultsTable, retentionDays: RETENTION_DAYS });
  const store: Store & { readonly rawPut: (item: Record<string, unknown>) => Promise<void> } = {
    recordSent: (p) => probes.recordSent(p),
    recordSendFailed: (p, e, at) => probes.recordSendFailed(p, e, at),
    transition: (id, from, to, outcome, at) => probes.transition(id, from, to, outcome, at),
    get: (id) => probes.get(id),
    overdue: (now, limit) => probes.overdue(now, limit),
    recent: (target, since, limit) => probes.recent(target, since, limit),
    unannouncedOutcomes: (limit) => probes.unannouncedOutcomes(limit),
    markOutcomesAnnounced: (marks) => probes.markOutcomesAnnounced(marks),
    countRejection: (reason, detail, at) => probes.countRejection(reason, detail, at),
    rejectionCounts: (since) => probes.rejectionCounts(since),
    saveCheckResult: (target, result) => checks.saveCheckResult(target, result),
    saveCheckResults: (entries, options) => checks.saveCheckResults(entries, options),
    latestCheckResults: () => checks.latestCheckResults(),
    latestCheckResultsOf: (target, prefix) => checks.latestCheckResultsOf(target, prefix),
    checkHistory: (target, endpoint, since, limit) => checks.checkHistory(target, endpoint, since, limit),
    rawPut: async (item) => {
      await doc.send(new PutCommand({ TableName: tables.probesTable, Item: item }));
    },
  };
  return { doc, tables, probes, checks, statuses, store };
}

describeProbeStoreContract("DynamoDB stores on dynalite", async () => (await freshStores()).store, {
  // An item as written before announcements were kept: every attribute but `unannounced`.
  writeOldProbe: (store, record) =>
    store.rawPut({
      ...record,
      ...(record.state === "sent" && { openState: "sent" }),
      expiresAt: expiresAtSeconds(record.deadlineMs, RETENTION_DAYS),
    }),
});

describe("DynamoProbeStore item layout", () => {
  let stores: Awaited<ReturnType<typeof freshStores>>;
  beforeEach(async () => {
    stores = await freshStores();
  });
  const rawProbe = async (probeId: string) =>
    (
      await stores.doc.send(
        new GetCommand({ TableName: stores.tables.probesTable, Key: { probeId }, ConsistentRead: true }),
      )
    ).Item;

  it("keeps openState only while the probe is sent, so the sparse index lists open probes only", async () => {
    await stores.probes.recordSent(probe("p1"));
    expect(await rawProbe("p1")).toMatchObject({ openState: "sent", state: "sent" });
    await stores.probes.transition("p1", ["sent"], "lost", {}, T0 + 700_000);
    const lost = await rawProbe("p1");
    expect(lost).toMatchObject({ state: "lost" });
    expect(lost).not.toHaveProperty("openState");
    expect(await stores.probes.overdue(T0 + 10 * 86_400_000, 10)).toEqual([]);

    await stores.probes.recordSendFailed(probe("p2"), "550 no", T0);
    expect(await rawProbe("p2")).not.toHaveProperty("openState");
  });

  it("sets expiresAt in epoch seconds: the deadline plus the retention, moved on by each transition", async () => {
    await stores.probes.recordSent(probe("p1"));
    const deadlineMs = probe("p1").deadlineMs;
    expect((await rawProbe("p1"))?.expiresAt).toBe(deadlineMs / 1000 + RETENTION_DAYS * 86_400);
    await stores.probes.transition("p1", ["sent"], "returned", { rttMs: 5 }, T0 + 5_000_000);
    expect((await rawProbe("p1"))?.expiresAt).toBe((T0 + 5_000_000) / 1000 + RETENTION_DAYS * 86_400);
  });

  it("sets unannounced with each outcome, never on a sent probe, and removes it when announced", async () => {
    await stores.probes.recordSent(probe("p1"));
    expect(await rawProbe("p1")).not.toHaveProperty("unannounced");
    await stores.probes.transition("p1", ["sent"], "returned", { rttMs: 5 }, T0 + 5);
    expect(await rawProbe("p1")).toMatchObject({ unannounced: "pending", updatedAtMs: T0 + 5 });
    await stores.probes.markOutcomesAnnounced([{ probeId: "p1", state: "returned" }]);
    expect(await rawProbe("p1")).not.toHaveProperty("unannounced");

    await stores.probes.recordSendFailed(probe("p2"), "550 no", T0);
    expect(await rawProbe("p2")).toMatchObject({ unannounced: "pending" });
  });

  it("marks the other probes and then throws when one mark fails", async () => {
    for (const id of ["p1", "p2"]) await stores.probes.recordSendFailed(probe(id), "550 no", T0);
    // DynamoDB refuses an empty string as a key: a failure that is not a refused condition.
    const marks = [
      { probeId: "p1", state: "send-failed" as const },
      { probeId: "", state: "send-failed" as const },
      { probeId: "p2", state: "send-failed" as const },
    ];
    await expect(stores.probes.markOutcomesAnnounced(marks)).rejects.toThrow(/empty string/);
    expect(await stores.probes.unannouncedOutcomes(10)).toEqual([]);
  });

  it("treats a transition from no state as no change", async () => {
    await stores.probes.recordSent(probe("p1"));
    expect(await stores.probes.transition("p1", [], "returned", {}, T0)).toBeUndefined();
  });

  it("refuses a retention that would expire items at once", () => {
    expect(() => new DynamoProbeStore({ doc: stores.doc, ...stores.tables, retentionDays: 0 })).toThrow(
      "retentionDays must be a positive number of days, not 0",
    );
  });
});

describe("DynamoCheckStore", () => {
  it("keeps a result of the same endpoint and millisecond twice, in saving order", async () => {
    const { checks } = await freshStores();
    await checks.saveCheckResult("mx1", checkResult("smtp", T0, { responseMs: 1 }));
    await checks.saveCheckResult("mx1", checkResult("smtp", T0, { responseMs: 2 }));
    const history = await checks.checkHistory("mx1", "smtp", T0, 10);
    expect(history.map((r) => r.responseMs)).toEqual([1, 2]);
  });
});

describe("DynamoStatusStore", () => {
  it("stores, reads back and lists statuses, pending fields included", async () => {
    const { statuses } = await freshStores();
    expect(await statuses.getStatus("mx1", "smtp://mx1.example.com")).toBeUndefined();
    const pending = trackedStatus({
      pendingStatus: "CRITICAL",
      pendingReason: "refused",
      pendingCount: 1,
      updatedAtMs: T0 + 60_000,
    });
    await statuses.putStatus(pending);
    await statuses.putStatus(trackedStatus({ targetId: "mx0", subject: "roundtrip" }));
    expect(await statuses.getStatus("mx1", "smtp://mx1.example.com")).toEqual(pending);
    expect((await statuses.listStatuses()).map((s) => [s.targetId, s.subject])).toEqual([
      ["mx0", "roundtrip"],
      ["mx1", "smtp://mx1.example.com"],
    ]);
  });

  it("keeps a status's changes still to announce, and drops the attribute when none are left", async () => {
    const { statuses, doc, tables } = await freshStores();
    const waiting = unannouncedCritical();
    await statuses.putStatus(waiting);
    expect(await statuses.getStatus("mx1", waiting.subject)).toEqual(waiting);
    const { unannounced: _sent, ...announced } = waiting;
    await statuses.putStatus({ ...announced, unannounced: [] });
    expect(await statuses.getStatus("mx1", waiting.subject)).toEqual(announced);
    const item = await doc.send(
      new GetCommand({ TableName: tables.resultsTable, Key: { pk: "status", sk: `mx1#${waiting.subject}` } }),
    );
    expect(item.Item).not.toHaveProperty("unannounced");
  });

  it("replaces an item only at the revision read, items from before revisions counting as 0", async () => {
    const { statuses } = await freshStores();
    const old = trackedStatus();
    await statuses.putStatus(old); // as written before revisions were kept: no attribute
    expect(await statuses.replaceStatus(trackedStatus({ reason: "x" }), undefined)).toBe(false);
    const struck = trackedStatus({ reason: "again" }); // same updatedAtMs, other content
    expect(await statuses.replaceStatus(struck, old)).toBe(true);
    expect(await statuses.replaceStatus(trackedStatus({ reason: "late" }), old)).toBe(false);
    const read = await statuses.getStatus("mx1", old.subject);
    expect(read).toEqual({ ...struck, revision: 1 });
    expect(await statuses.replaceStatus(trackedStatus({ status: "CRITICAL", reason: "refused" }), read)).toBe(
      true,
    );
    expect(await statuses.getStatus("mx1", old.subject)).toMatchObject({ status: "CRITICAL", revision: 2 });
  });

  it("confirms a roundtrip change once when the prober's sweep and the correlator observe at once", async () => {
    const { statuses } = await freshStores();
    const base = { targetId: "mx1", subject: "roundtrip", confirmAfter: 2 };
    await new StatusTracker(statuses).observe({ ...base, status: "OK", reason: "returned", atMs: T0 });
    const outcomes = await Promise.all([
      new StatusTracker(statuses).observe({ ...base, status: "CRITICAL", reason: "lost", atMs: T0 + 60_000 }),
      new StatusTracker(statuses).observe({
        ...base,
        status: "CRITICAL",
        reason: "bounced",
        atMs: T0 + 120_000,
      }),
    ]);
    expect(outcomes.flat().map((announcement) => announcement.transition.to)).toEqual(["CRITICAL"]);
    expect(await statuses.getStatus("mx1", "roundtrip")).toMatchObject({
      status: "CRITICAL",
      reason: "bounced",
      updatedAtMs: T0 + 120_000,
    });
  });

  it("never rolls a status back to an older one", async () => {
    const { statuses } = await freshStores();
    const newer = trackedStatus({ status: "CRITICAL", reason: "refused", updatedAtMs: T0 + 120_000 });
    await statuses.putStatus(newer);
    await statuses.putStatus(trackedStatus({ updatedAtMs: T0 + 60_000 }));
    expect(await statuses.getStatus("mx1", "smtp://mx1.example.com")).toEqual(newer);
    const newest = trackedStatus({ updatedAtMs: T0 + 180_000 });
    await statuses.putStatus(newest);
    expect(await statuses.getStatus("mx1", "smtp://mx1.example.com")).toEqual(newest);
  });
});
