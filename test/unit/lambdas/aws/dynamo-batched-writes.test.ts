/*
 * The prober's store path on dynalite: check results in BatchWriteItem calls of 25 (unprocessed
 * items sent again), and the status snapshot that reads every status with one Query and writes
 * only what changed. Calls are counted by a middleware on a client of their own.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrackedStatus } from "../../../../core/ports/status-store.ts";
import { writeBatches } from "../../../../lambdas/aws/dynamo-batch-write.ts";
import { DynamoCheckStore } from "../../../../lambdas/aws/dynamo-check-store.ts";
import { documentClient } from "../../../../lambdas/aws/dynamo-client.ts";
import { DynamoStatusSnapshot } from "../../../../lambdas/aws/dynamo-status-snapshot.ts";
import { DynamoStatusStore } from "../../../../lambdas/aws/dynamo-status-store.ts";
import {
  createScoutTables,
  type DynamoStandIn,
  FAKE_CREDENTIALS,
  REGION,
  startDynalite,
  useFakeAwsEnvironment,
} from "../../../support/aws-standins.ts";
import { checkResult } from "../../../support/probe-store-contract.ts";
import { trackedStatus, unannouncedCritical } from "../../../support/tracked-status.ts";

useFakeAwsEnvironment();
const T0 = Date.parse("2026-06-01T00:00:00Z");
const MINUTE = 60_000;
const RETENTION_DAYS = 30;
let dynamo: DynamoStandIn;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

/** A fresh results table, and a document client on it whose calls are listed by command name. */
async function counted() {
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
  });
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: "countCalls" },
  );
  const { resultsTable } = await createScoutTables(dynamo.client);
  const doc = documentClient(client);
  return { doc, table: resultsTable, calls };
}

function item(pk: string, sk: string): Record<string, unknown> {
  return { pk, sk, note: "x" };
}

async function countItems(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<number> {
  const answer = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      Select: "COUNT",
    }),
  );
  return answer.Count ?? -1;
}

describe("writeBatches", () => {
  it("puts 60 items in three BatchWriteItem calls of at most 25", async () => {
    const { doc, table, calls } = await counted();
    const puts = Array.from({ length: 60 }, (_, i) => ({
      entry: i,
      item: item("p", String(i).padStart(3, "0")),
    }));
    expect(await writeBatches(doc, table, puts, { concurrency: 2 })).toEqual([]);
    expect(calls).toEqual(["BatchWriteItem", "BatchWriteItem", "BatchWriteItem"]);
    expect(await countItems(doc, table, "p")).toBe(60);
  });

  it("sends the items DynamoDB left unprocessed again, and only those", async () => {
    const doc = documentClient({ region: REGION, credentials: FAKE_CREDENTIALS });
    const mock = mockClient(doc);
    const puts = [0, 1, 2, 3].map((i) => ({ entry: i, item: item("p", `s${i}`) }));
    mock
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          tbl: [{ PutRequest: { Item: item("p", "s1") } }, { PutRequest: { Item: item("p", "s3") } }],
        },
      })
      .resolves({});
    expect(await writeBatches(doc, "tbl", puts, { concurrency: 1, retry: { baseDelayMs: 1 } })).toEqual([]);
    const sent = mock
      .commandCalls(BatchWriteCommand)
      .map((call) =>
        (call.args[0].input.RequestItems?.tbl ?? []).map((request) => request.PutRequest?.Item?.sk),
      );
    expect(sent).toEqual([
      ["s0", "s1", "s2", "s3"],
      ["s1", "s3"],
    ]);
  });

  it("names the items still unprocessed after the last attempt, and fails a refused batch whole", async () => {
    const doc = documentClient({ region: REGION, credentials: FAKE_CREDENTIALS });
    const mock = mockClient(doc);
    const puts = Array.from({ length: 26 }, (_, i) => ({ entry: i, item: item("p", `s${i}`) }));
    mock
      .on(BatchWriteCommand)
      .callsFake((input: { RequestItems: Record<string, { PutRequest: { Item: { sk: string } } }[]> }) => {
        const requests = input.RequestItems.tbl ?? [];
        if (requests.some((r) => r.PutRequest.Item.sk === "s25"))
          throw Object.assign(new Error("Requested resource not found"), {
            name: "ResourceNotFoundException",
          });
        return { UnprocessedItems: { tbl: requests.filter((r) => r.PutRequest.Item.sk === "s7") } };
      });
    const failures = await writeBatches(doc, "tbl", puts, {
      concurrency: 1,
      retry: { attempts: 3, baseDelayMs: 1 },
    });
    expect(failures.map((f) => [f.entry, f.error.message])).toEqual([
      [
        7,
        "DynamoDB left 1 item(s) of a batch write to tbl unprocessed after 3 attempts (throughput exceeded?)",
      ],
      [25, "Requested resource not found"],
    ]);
    // The first batch three times, the second (the 26th item alone) once.
    expect(mock.commandCalls(BatchWriteCommand)).toHaveLength(4);
  });
});

describe("DynamoCheckStore.saveCheckResults", () => {
  const results = (count: number, atMs: number) =>
    Array.from({ length: count }, (_, i) => ({
      targetId: `t${i % 3}`,
      result: checkResult(`smtp://mx${i}.example.com`, atMs, { responseMs: i }),
    }));

  it("writes history and latest items of 30 results in three batch calls while no later run can exist", async () => {
    const { doc, table, calls } = await counted();
    const checks = new DynamoCheckStore({ doc, table, retentionDays: RETENTION_DAYS });
    const errors = await checks.saveCheckResults(results(30, T0), {
      concurrency: 4,
      latestUnconditionally: () => true,
    });
    expect(errors).toEqual(Array(30).fill(undefined));
    expect(calls).toEqual(["BatchWriteItem", "BatchWriteItem", "BatchWriteItem"]);
    const latest = await checks.latestCheckResults();
    expect(latest).toHaveLength(30);
    expect(latest.find((l) => l.result.endpoint === "smtp://mx4.example.com")).toMatchObject({
      targetId: "t1",
      result: { responseMs: 4 },
    });
    expect(await checks.checkHistory("t2", "smtp://mx5.example.com", T0, 10)).toHaveLength(1);
  });

  it("otherwise puts each latest item conditionally, so an older result never replaces a newer one", async () => {
    const { doc, table, calls } = await counted();
    const checks = new DynamoCheckStore({ doc, table, retentionDays: RETENTION_DAYS });
    await checks.saveCheckResult(
      "t0",
      checkResult("smtp://mx0.example.com", T0 + MINUTE, { responseMs: 999 }),
    );
    calls.length = 0;
    const errors = await checks.saveCheckResults(results(2, T0), {
      concurrency: 4,
      latestUnconditionally: () => false,
    });
    expect(errors).toEqual([undefined, undefined]);
    expect(calls.sort()).toEqual(["BatchWriteItem", "PutItem", "PutItem"]);
    const latest = await checks.latestCheckResults();
    expect(latest.map((l) => [l.result.endpoint, l.result.responseMs])).toEqual([
      ["smtp://mx0.example.com", 999],
      ["smtp://mx1.example.com", 1],
    ]);
    expect(await checks.checkHistory("t0", "smtp://mx0.example.com", 0, 10)).toHaveLength(2);
  });

  it("keeps the newer of two results of one endpoint as latest, and fails only an unreadable result", async () => {
    const { doc, table } = await counted();
    const checks = new DynamoCheckStore({ doc, table, retentionDays: RETENTION_DAYS });
    const endpoint = "smtp://mx.example.com";
    const errors = await checks.saveCheckResults(
      [
        { targetId: "t0", result: checkResult(endpoint, T0 + MINUTE, { responseMs: 2 }) },
        { targetId: "t0", result: checkResult(endpoint, T0, { responseMs: 1 }) },
        { targetId: "t0", result: checkResult("smtp://bad.example.com", T0, { startedAt: "not a time" }) },
      ],
      { concurrency: 1, latestUnconditionally: () => true },
    );
    expect(errors.map((e) => e?.message)).toEqual([
      undefined,
      undefined,
      "check result of smtp://bad.example.com has no valid startedAt",
    ]);
    expect((await checks.latestCheckResults()).map((l) => l.result.responseMs)).toEqual([2]);
    expect(await checks.checkHistory("t0", endpoint, 0, 10)).toHaveLength(2);
  });

  it("fails every entry of a batch DynamoDB refuses whole (an item over 400 KB), and stores the other batches", async () => {
    const { doc, table } = await counted();
    const checks = new DynamoCheckStore({ doc, table, retentionDays: RETENTION_DAYS });
    const entries = results(30, T0);
    const oversized = entries[27] as (typeof entries)[number];
    entries[27] = { ...oversized, result: { ...oversized.result, message: "x".repeat(410_000) } };
    // Not unconditionally: the history items go in batches (entries 0-24, 25-29), each latest item alone.
    const errors = await checks.saveCheckResults(entries, { concurrency: 2 });
    const refused = errors.map((error, entry) => (error === undefined ? undefined : [entry, error.message]));
    expect(refused.slice(0, 25)).toEqual(Array(25).fill(undefined));
    expect(refused.slice(25)).toEqual(
      [25, 26, 27, 28, 29].map((entry) => [entry, expect.stringMatching(/size/i)]),
    );
    expect(await checks.checkHistory("t0", "smtp://mx24.example.com", T0, 10)).toHaveLength(1);
    expect(await checks.checkHistory("t1", "smtp://mx25.example.com", T0, 10)).toEqual([]);
  });
});

describe("DynamoStatusSnapshot", () => {
  const ENDPOINT = "smtp://mx1.example.com";
  async function fixture(options: { refreshAfterMs?: number } = {}) {
    const { doc, table, calls } = await counted();
    const store = new DynamoStatusStore({ doc, table, retentionDays: RETENTION_DAYS });
    // Written before the run, through the plain store.
    await store.putStatus(trackedStatus());
    await store.putStatus(trackedStatus({ subject: "roundtrip" }));
    calls.length = 0;
    const snapshot = new DynamoStatusSnapshot({
      store,
      retentionDays: RETENTION_DAYS,
      sharedSubject: (subject) => subject === "roundtrip",
      ...options,
    });
    return { store, snapshot, calls };
  }

  /** The tracker's write: over what the run reads now. */
  async function write(snapshot: DynamoStatusSnapshot, next: TrackedStatus): Promise<boolean> {
    return snapshot.replaceStatus(next, await snapshot.getStatus(next.targetId, next.subject));
  }

  it("reads every status with one Query, and writes nothing when only the time moved on", async () => {
    const { store, snapshot, calls } = await fixture();
    expect(await snapshot.getStatus("mx1", ENDPOINT)).toEqual(trackedStatus());
    expect(await snapshot.getStatus("mx2", ENDPOINT)).toBeUndefined();
    const later = trackedStatus({ updatedAtMs: T0 + MINUTE });
    expect(await write(snapshot, later)).toBe(true);
    expect(calls).toEqual(["Query"]);
    // The run sees its own observation; the table keeps the record it had.
    expect(await snapshot.getStatus("mx1", ENDPOINT)).toEqual(later);
    expect(await store.getStatus("mx1", ENDPOINT)).toEqual(trackedStatus());
  });

  it("writes a changed record, a first record, and a stable one once it is older than the refresh age", async () => {
    const { store, snapshot, calls } = await fixture({ refreshAfterMs: 10 * MINUTE });
    const pending = trackedStatus({
      pendingStatus: "CRITICAL",
      pendingReason: "refused",
      pendingCount: 1,
      updatedAtMs: T0 + MINUTE,
    });
    await write(snapshot, pending);
    await write(snapshot, trackedStatus({ targetId: "mx2", updatedAtMs: T0 + MINUTE }));
    const refreshed = trackedStatus({
      updatedAtMs: T0 + 20 * MINUTE,
      targetId: "mx1",
      subject: "imap://mx1.example.com",
    });
    await write(snapshot, refreshed);
    await write(
      snapshot,
      trackedStatus({ updatedAtMs: T0 + 22 * MINUTE, subject: "imap://mx1.example.com" }),
    );
    expect(calls).toEqual(["Query", "PutItem", "PutItem", "PutItem"]);
    expect(await store.getStatus("mx1", ENDPOINT)).toEqual({ ...pending, revision: 1 });
    expect(await store.getStatus("mx2", ENDPOINT)).toEqual(
      trackedStatus({ targetId: "mx2", updatedAtMs: T0 + MINUTE, revision: 1 }),
    );

    const stale = await fixture({ refreshAfterMs: 10 * MINUTE });
    await write(stale.snapshot, trackedStatus({ updatedAtMs: T0 + 10 * MINUTE }));
    expect(stale.calls).toEqual(["Query", "PutItem"]);
  });

  it("writes a record whose changes to announce were struck, even when nothing else changed", async () => {
    const { store, snapshot, calls } = await fixture();
    const waiting = unannouncedCritical();
    await write(snapshot, waiting);
    const { unannounced: _sent, ...announced } = waiting;
    await write(snapshot, announced);
    expect(calls).toEqual(["Query", "PutItem", "PutItem"]);
    expect(await store.getStatus("mx1", ENDPOINT)).toEqual({ ...announced, revision: 2 });
  });

  it("writes the tracker's conditional puts, and refreshes its view when an overlapping run wrote first", async () => {
    const { store, snapshot, calls } = await fixture();
    const read = await snapshot.getStatus("mx1", ENDPOINT);
    // Only the time moved on: no write, and the run's view follows.
    const later = trackedStatus({ updatedAtMs: T0 + MINUTE });
    expect(await snapshot.replaceStatus(later, read)).toBe(true);
    expect(await snapshot.replaceStatus(trackedStatus({ updatedAtMs: T0 + 2 * MINUTE }), read)).toBe(false);
    expect(calls).toEqual(["Query"]);

    const theirs = trackedStatus({
      pendingStatus: "CRITICAL",
      pendingReason: "refused",
      pendingCount: 1,
      updatedAtMs: T0 + 2 * MINUTE,
    });
    // The overlapping run writes as the tracker does: over the record it read.
    expect(await store.replaceStatus(theirs, await store.getStatus("mx1", ENDPOINT))).toBe(true);
    calls.length = 0;
    const ours = trackedStatus({
      status: "WARNING",
      reason: "slow",
      sinceMs: T0 + 3 * MINUTE,
      updatedAtMs: T0 + 3 * MINUTE,
    });
    expect(await snapshot.replaceStatus(ours, later)).toBe(false);
    expect(calls).toEqual(["PutItem", "GetItem"]);
    const fresh = await snapshot.getStatus("mx1", ENDPOINT);
    expect(fresh).toEqual({ ...theirs, revision: 1 });
    // Applied again to what the table holds, the write goes through.
    expect(await snapshot.replaceStatus(ours, fresh)).toBe(true);
    expect(await store.getStatus("mx1", ENDPOINT)).toEqual({ ...ours, revision: 2 });
  });

  it("reads and writes a subject other functions share item by item", async () => {
    const { store, snapshot, calls } = await fixture();
    const returned = trackedStatus({ subject: "roundtrip", updatedAtMs: T0 + MINUTE });
    await store.putStatus(returned);
    calls.length = 0;
    expect(await snapshot.getStatus("mx1", "roundtrip")).toEqual(returned);
    // The same record again is still written: late verdicts rely on the stored time.
    expect(
      await snapshot.replaceStatus(
        trackedStatus({ subject: "roundtrip", updatedAtMs: T0 + 2 * MINUTE }),
        returned,
      ),
    ).toBe(true);
    expect(calls).toEqual(["GetItem", "PutItem"]);
  });

  it("falls back to item-by-item reads and writes, and says why, when the Query fails", async () => {
    const { store, calls } = await fixture();
    const refusing = Object.assign(Object.create(store) as DynamoStatusStore, {
      listStatuses: async () => {
        throw new Error("Query refused");
      },
    });
    const snapshot = new DynamoStatusSnapshot({
      store: refusing,
      retentionDays: RETENTION_DAYS,
      sharedSubject: () => false,
    });
    expect(await snapshot.getStatus("mx1", ENDPOINT)).toEqual(trackedStatus());
    expect(await write(snapshot, trackedStatus({ updatedAtMs: T0 + MINUTE }))).toBe(true);
    expect(snapshot.loadError?.message).toBe("Query refused");
    expect(calls).toEqual(["GetItem", "GetItem", "PutItem"]);
  });
});
