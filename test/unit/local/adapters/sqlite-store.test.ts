import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS, migrate } from "../../../../local/adapters/sqlite-migrations.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import {
  type ContractOptions,
  checkResult,
  describeProbeStoreContract,
  probe,
} from "../../../support/probe-store-contract.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const STORE_MODULE = new URL("../../../../local/adapters/sqlite-store.ts", import.meta.url).href;

let dir: string;
const opened: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "scout-sqlite-"));
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path = join(dir, "scout.db")): Promise<SqliteStore> {
  const store = await SqliteStore.open(path);
  opened.push(store);
  return store;
}

/** Reads the file through a connection of its own, as another program would. */
function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

// Each contract test gets a fresh file of its own; the directory goes when the file's tests end.
const contractDir = mkdtempSync(join(tmpdir(), "scout-contract-"));
let contractFiles = 0;
afterAll(() => rmSync(contractDir, { recursive: true, force: true }));

const contractOptions: ContractOptions<SqliteStore> = {
  // The announced column left to its default, which rows from before the column were given.
  writeOldProbe: async (store, record) => {
    store.db
      .prepare(
        `INSERT INTO probes (probe_id, target_id, to_address, message_id, sent_at_ms, deadline_ms, state, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.probeId,
        record.targetId,
        record.toAddress,
        record.messageId,
        record.sentAtMs,
        record.deadlineMs,
        record.state,
        record.updatedAtMs,
      );
  },
};
describeProbeStoreContract(
  "SqliteStore on disk",
  () => SqliteStore.open(join(contractDir, `${++contractFiles}.db`)),
  contractOptions,
);
describeProbeStoreContract("SqliteStore :memory:", () => SqliteStore.open(":memory:"), contractOptions);

describe("SqliteStore", () => {
  it("creates missing parent directories private to the user, in WAL mode", async () => {
    const path = join(dir, "a", "b", "scout.db");
    await open(path);
    expect(statSync(join(dir, "a")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "a", "b")).mode & 0o777).toBe(0o700);
    expect(inspect(path, (db) => db.pragma("journal_mode", { simple: true }))).toBe("wal");
  });

  it("creates the database and its -wal and -shm files 0600, and tightens a looser existing one", async () => {
    const path = join(dir, "private", "scout.db");
    const store = await open(path);
    await store.recordSent(probe("p-private"));
    for (const file of [path, `${path}-wal`, `${path}-shm`])
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    const loose = join(dir, "loose.db");
    writeFileSync(loose, "");
    chmodSync(loose, 0o644);
    await open(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });

  it("keeps everything across close and reopen", async () => {
    const path = join(dir, "scout.db");
    const first = await SqliteStore.open(path);
    await first.recordSent(probe("p1"));
    await first.transition("p1", ["sent"], "returned", { rttMs: 1_234, hops: [{ by: "mx1" }] }, T0 + 1_234);
    await first.countRejection("no-token", "plain mail", T0);
    await first.saveCheckResult("mx1", checkResult("smtp", T0));
    first.close();

    const second = await open(path);
    expect(await second.get("p1")).toMatchObject({ state: "returned", rttMs: 1_234, hops: [{ by: "mx1" }] });
    expect(await second.rejectionCounts(0)).toEqual({ "no-token": 1 });
    expect(await second.latestCheckResults()).toEqual([{ targetId: "mx1", result: checkResult("smtp", T0) }]);
  });

  it("keeps at most 500 characters of a rejection's detail", async () => {
    const path = join(dir, "scout.db");
    const store = await open(path);
    await store.countRejection("malformed-mail", "x".repeat(10_000), T0);
    expect(inspect(path, (db) => db.prepare("SELECT length(detail) AS n FROM rejections").get())).toEqual({
      n: 500,
    });
  });

  describe("outcome announcements", () => {
    it("counts probes stored before announcements were kept as announced, after migrating", () => {
      const db = new Database(":memory:");
      try {
        migrate(db, ":memory:", MIGRATIONS.slice(0, 2));
        db.prepare(
          `INSERT INTO probes (probe_id, target_id, to_address, message_id, sent_at_ms, deadline_ms, state, updated_at_ms)
           VALUES ('old', 'mx1', 'p@x', '<m@x>', 1, 2, 'returned', 3)`,
        ).run();
        migrate(db, ":memory:");
        expect(db.prepare("SELECT announced FROM probes WHERE probe_id = 'old'").get()).toEqual({
          announced: 1,
        });
      } finally {
        db.close();
      }
    });
  });

  it("reports every entry of a batch when the database cannot be written at all", async () => {
    const store = await open();
    opened.length = 0;
    store.close();
    const entries = [
      { targetId: "mx1", result: checkResult("smtp", T0) },
      { targetId: "mx2", result: checkResult("smtp", T0) },
    ];
    const errors = await store.saveCheckResults(entries, { concurrency: 1 });
    expect(errors.map((error) => error?.message)).toEqual([
      "The database connection is not open",
      "The database connection is not open",
    ]);
  });

  it("rolls the whole batch back when an entry's error ends the transaction", async () => {
    const path = join(dir, "scout.db");
    const store = await open(path);
    // A trigger that aborts the transaction on the second entry, as a full disk would.
    store.db.exec(`CREATE TRIGGER refuse_mx2 BEFORE INSERT ON check_results WHEN NEW.target_id = 'mx2'
      BEGIN SELECT RAISE(ROLLBACK, 'disk full'); END`);
    const entries = [
      { targetId: "mx1", result: checkResult("smtp", T0) },
      { targetId: "mx2", result: checkResult("smtp", T0) },
      { targetId: "mx3", result: checkResult("smtp", T0) },
    ];
    const errors = await store.saveCheckResults(entries, { concurrency: 1 });
    expect(errors.map((error) => error?.message)).toEqual(["disk full", "disk full", "disk full"]);
    expect(await store.latestCheckResults()).toEqual([]);
  });

  describe("migrations", () => {
    it("bring an empty database to the current version; reopening changes nothing", async () => {
      const path = join(dir, "scout.db");
      (await open(path)).close();
      opened.length = 0;
      const version = () => inspect(path, (db) => db.pragma("user_version", { simple: true }));
      expect(version()).toBe(MIGRATIONS.length);
      const tables = () =>
        inspect(path, (db) =>
          db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all(),
        );
      expect(tables()).toEqual([
        { name: "check_results" },
        { name: "outbox" },
        { name: "probes" },
        { name: "rejections" },
        { name: "statuses" },
      ]);

      const store = await open(path);
      await store.recordSent(probe("p1"));
      store.close();
      opened.length = 0;
      await open(path);
      expect(version()).toBe(MIGRATIONS.length);
      expect(await opened[0]?.get("p1")).toMatchObject({ state: "sent" });
    });

    it("apply only the steps not yet applied, each once", () => {
      const db = new Database(":memory:");
      try {
        migrate(db, ":memory:");
        const steps = [...MIGRATIONS, "CREATE TABLE later (x INTEGER)"];
        migrate(db, ":memory:", steps);
        migrate(db, ":memory:", steps);
        expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length + 1);
      } finally {
        db.close();
      }
    });

    it("roll a failed step back entirely and leave the version where it was", () => {
      const db = new Database(":memory:");
      try {
        migrate(db, ":memory:");
        const broken = [...MIGRATIONS, "CREATE TABLE half (x INTEGER); CREATE TABLE probes (y INTEGER);"];
        expect(() => migrate(db, ":memory:", broken)).toThrow(/already exists/);
        expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
        expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half'").get()).toBeUndefined();
      } finally {
        db.close();
      }
    });

    it("refuse a database written by a newer Email Scout, saying so", async () => {
      const path = join(dir, "scout.db");
      const db = new Database(path);
      db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
      db.close();
      await expect(SqliteStore.open(path)).rejects.toThrow(
        `database at ${path} was written by a newer Email Scout (schema ${MIGRATIONS.length + 5}, this one knows ${MIGRATIONS.length})`,
      );
    });
  });

  it("lets exactly one of two connections on one file win a transition", async () => {
    const path = join(dir, "scout.db");
    const a = await open(path);
    const b = await open(path);
    await a.recordSent(probe("p1"));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).transition("p1", ["sent"], "returned", { rttMs: i }, T0 + i),
      ),
    );
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect(await b.get("p1")).toEqual(winners[0]);
    await expect(b.recordSent(probe("p1"))).rejects.toThrow("probe p1 is already recorded");
  });

  it("lets exactly one of four processes racing on one file win a transition", async () => {
    const path = join(dir, "scout.db");
    const store = await open(path);
    await store.recordSent(probe("p1"));

    const racers = Array.from({ length: 4 }, (_, i) => startRacer(path, i));
    await Promise.all(racers.map((r) => r.ready));
    for (const racer of racers) racer.go();
    const outcomes = await Promise.all(racers.map((r) => r.outcome));

    expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "lost")).toHaveLength(3);
    expect(await store.get("p1")).toMatchObject({ state: "returned" });
  });

  it("prunes results, rejections and settled probes older than the cutoff", async () => {
    const store = await open();
    const cutoff = T0 + 1_000;
    await store.saveCheckResult("mx1", checkResult("smtp", cutoff - 1));
    await store.saveCheckResult("mx1", checkResult("smtp", cutoff));
    await store.countRejection("no-token", "", cutoff - 1);
    await store.countRejection("no-token", "", cutoff);
    await store.recordSent(probe("old-returned", cutoff - 10));
    await store.transition("old-returned", ["sent"], "returned", {}, cutoff - 5);
    await store.recordSent(probe("old-lost", cutoff - 10));
    await store.transition("old-lost", ["sent"], "lost", {}, cutoff - 5);
    await store.recordSendFailed(probe("old-failed", cutoff - 10), "x", cutoff - 10);
    await store.recordSent(probe("old-waiting", cutoff - 10));
    await store.recordSent(probe("new", cutoff));
    await store.transition("new", ["sent"], "returned", {}, cutoff + 5);

    expect(store.pruneOlderThan(cutoff)).toEqual({ checkResults: 1, rejections: 1, probes: 3 });
    expect((await store.checkHistory("mx1", "smtp", 0, 10)).map((r) => r.startedAt)).toEqual([
      new Date(cutoff).toISOString(),
    ]);
    expect(await store.rejectionCounts(0)).toEqual({ "no-token": 1 });
    expect((await store.recent("mx1", 0, 10)).map((p) => p.probeId)).toEqual(["new", "old-waiting"]);
    expect(store.pruneOlderThan(cutoff)).toEqual({ checkResults: 0, rejections: 0, probes: 0 });
  });
});

/**
 * A separate Node process with its own connection: opens the store, says "ready", waits
 * for "go" on stdin, then tries the transition and reports "won" or "lost".
 */
function startRacer(path: string, index: number) {
  const code = `
    const { SqliteStore } = await import(${JSON.stringify(STORE_MODULE)});
    const store = await SqliteStore.open(${JSON.stringify(path)});
    process.stdout.write("ready\\n");
    process.stdin.once("data", async () => {
      const record = await store.transition("p1", ["sent"], "returned", { rttMs: ${index} }, ${T0 + index});
      process.stdout.write(record ? "won\\n" : "lost\\n");
      store.close();
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (out.startsWith("ready\n")) resolve();
    });
    child.on("exit", (status) => reject(new Error(`racer ${index} exited ${status} before ready: ${err}`)));
  });
  const outcome = new Promise<string>((resolve, reject) => {
    child.on("exit", (status) =>
      status === 0
        ? resolve(out.replace("ready\n", "").trim())
        : reject(new Error(`racer ${index} exited ${status}: ${err}`)),
    );
  });
  return { ready, outcome, go: () => child.stdin.end("go\n") };
}
