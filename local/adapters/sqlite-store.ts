import { constants } from "node:fs";
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { asError } from "../../core/basics/describe-error.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { CheckStore, SaveCheckResultsOptions, StoredCheck } from "../../core/ports/check-store.ts";
import {
  MAX_REJECTION_DETAIL,
  type NewProbe,
  type ProbeOutcome,
  type ProbeRecord,
  type ProbeState,
  type ProbeStore,
  type RejectReason,
} from "../../core/ports/probe-store.ts";
import { migrate } from "./sqlite-migrations.ts";
import { PROBE_COLUMNS, type ProbeRow, toRecord } from "./sqlite-probe-rows.ts";

interface NewProbeParams {
  probeId: string;
  targetId: string;
  toAddress: string;
  messageId: string;
  sentAtMs: number;
  deadlineMs: number;
  state: ProbeState;
  updatedAtMs: number;
  error: string | null;
}

interface TransitionParams {
  probeId: string;
  fromJson: string;
  to: ProbeState;
  atMs: number;
  returnedAtMs: number | null;
  rttMs: number | null;
  remoteArrivedAtMs: number | null;
  remoteClockOffsetMs: number | null;
  remoteClockSkewed: number | null;
  hopsJson: string | null;
  verdictsJson: string | null;
  bounceJson: string | null;
  folder: string | null;
  error: string | null;
}

/**
 * ProbeStore and CheckStore on one SQLite file (local mode). WAL lets the dashboard read while
 * the monitor writes; every probe state change is one conditional UPDATE, so two connections
 * (or processes) racing on one probe record one result. A probe's `announced` column is 0 from
 * the moment an outcome is written until markOutcomesAnnounced; rows from before the column
 * existed got 1.
 */
export class SqliteStore implements ProbeStore, CheckStore {
  private readonly insertProbe;
  private readonly transitionProbe;
  private readonly selectProbe;
  private readonly selectUnannounced;
  private readonly markAnnounced;
  private readonly selectOverdue;
  private readonly selectRecent;
  private readonly insertRejection;
  private readonly countRejections;
  private readonly insertCheck;
  private readonly insertChecks;
  private readonly selectLatestChecks;
  private readonly selectLatestChecksOf;
  private readonly selectCheckHistory;
  private readonly prune;

  /** The open database: the status and outbox adapters share this one connection (and its file). */
  private constructor(readonly db: Database.Database) {
    this.insertProbe = db.prepare<NewProbeParams>(
      `INSERT INTO probes (probe_id, target_id, to_address, message_id, sent_at_ms, deadline_ms, state,
         updated_at_ms, error, announced)
       VALUES (@probeId, @targetId, @toAddress, @messageId, @sentAtMs, @deadlineMs, @state, @updatedAtMs,
         @error, @state = 'sent')`,
    );
    // The IN list travels as one JSON array so a single prepared statement serves every
    // transition; RETURNING hands back the row this very statement changed.
    this.transitionProbe = db.prepare<TransitionParams, ProbeRow>(
      `UPDATE probes SET
         state = @to,
         updated_at_ms = @atMs,
         announced = 0,
         returned_at_ms = COALESCE(@returnedAtMs, returned_at_ms),
         rtt_ms = COALESCE(@rttMs, rtt_ms),
         remote_arrived_at_ms = COALESCE(@remoteArrivedAtMs, remote_arrived_at_ms),
         remote_clock_offset_ms = COALESCE(@remoteClockOffsetMs, remote_clock_offset_ms),
         remote_clock_skewed = COALESCE(@remoteClockSkewed, remote_clock_skewed),
         hops_json = COALESCE(@hopsJson, hops_json),
         verdicts_json = COALESCE(@verdictsJson, verdicts_json),
         bounce_json = COALESCE(@bounceJson, bounce_json),
         folder = COALESCE(@folder, folder),
         error = COALESCE(@error, error)
       WHERE probe_id = @probeId AND state IN (SELECT value FROM json_each(@fromJson))
       RETURNING ${PROBE_COLUMNS}`,
    );
    this.selectUnannounced = db.prepare<[number], ProbeRow>(
      `SELECT ${PROBE_COLUMNS} FROM probes WHERE announced = 0 ORDER BY updated_at_ms, probe_id LIMIT ?`,
    );
    this.markAnnounced = db.prepare<[string, string]>(
      "UPDATE probes SET announced = 1 WHERE probe_id = ? AND state = ?",
    );
    this.selectProbe = db.prepare<[string], ProbeRow>(
      `SELECT ${PROBE_COLUMNS} FROM probes WHERE probe_id = ?`,
    );
    this.selectOverdue = db.prepare<[number, number], ProbeRow>(
      `SELECT ${PROBE_COLUMNS} FROM probes WHERE state = 'sent' AND deadline_ms < ?
       ORDER BY deadline_ms, probe_id LIMIT ?`,
    );
    this.selectRecent = db.prepare<[string, number, number], ProbeRow>(
      `SELECT ${PROBE_COLUMNS} FROM probes WHERE target_id = ? AND sent_at_ms >= ?
       ORDER BY sent_at_ms DESC, probe_id DESC LIMIT ?`,
    );
    this.insertRejection = db.prepare<[string, string, number]>(
      "INSERT INTO rejections (reason, detail, at_ms) VALUES (?, ?, ?)",
    );
    this.countRejections = db.prepare<[number], { reason: RejectReason; n: number }>(
      "SELECT reason, COUNT(*) AS n FROM rejections WHERE at_ms >= ? GROUP BY reason",
    );
    this.insertCheck = db.prepare<[string, string, number, string, string, string]>(
      `INSERT INTO check_results (target_id, endpoint, started_at_ms, status, reason, result_json)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // One transaction for the lot; an entry that fails is left out and reported, the rest commit.
    this.insertChecks = db.transaction((entries: readonly StoredCheck[]) =>
      entries.map(({ targetId, result }) => {
        try {
          this.insertCheckResult(targetId, result);
          return undefined;
        } catch (error) {
          // An error that ended the transaction itself (SQLITE_FULL, say) fails the lot.
          if (!db.inTransaction) throw error;
          return asError(error);
        }
      }),
    );
    this.selectLatestChecks = db.prepare<[], { target_id: string; result_json: string }>(
      `SELECT target_id, result_json FROM (
         SELECT target_id, endpoint, result_json, ROW_NUMBER() OVER (
           PARTITION BY target_id, endpoint ORDER BY started_at_ms DESC, id DESC) AS newest
         FROM check_results)
       WHERE newest = 1 ORDER BY target_id, endpoint`,
    );
    // One target's endpoints in [prefix, prefix's successor): the index's range, no scan.
    this.selectLatestChecksOf = db.prepare<[string, string, string], { result_json: string }>(
      `SELECT result_json FROM (
         SELECT endpoint, result_json, ROW_NUMBER() OVER (
           PARTITION BY endpoint ORDER BY started_at_ms DESC, id DESC) AS newest
         FROM check_results WHERE target_id = ? AND endpoint >= ? AND endpoint < ?)
       WHERE newest = 1 ORDER BY endpoint`,
    );
    // The newest `limit` rows, handed back oldest first.
    this.selectCheckHistory = db.prepare<[string, string, number, number], { result_json: string }>(
      `SELECT result_json FROM (
         SELECT id, started_at_ms, result_json FROM check_results
         WHERE target_id = ? AND endpoint = ? AND started_at_ms >= ?
         ORDER BY started_at_ms DESC, id DESC LIMIT ?)
       ORDER BY started_at_ms, id`,
    );
    const pruneChecks = db.prepare<[number]>("DELETE FROM check_results WHERE started_at_ms < ?");
    const pruneRejections = db.prepare<[number]>("DELETE FROM rejections WHERE at_ms < ?");
    // "lost" counts as final here: a return older than the retention window could no
    // longer be told apart from a forgery anyway. "sent" waits for the sweep.
    const pruneProbes = db.prepare<[number]>("DELETE FROM probes WHERE state <> 'sent' AND sent_at_ms < ?");
    this.prune = db.transaction((cutoffMs: number) => ({
      checkResults: pruneChecks.run(cutoffMs).changes,
      rejections: pruneRejections.run(cutoffMs).changes,
      probes: pruneProbes.run(cutoffMs).changes,
    }));
  }

  /**
   * Opens (creating it and its directory, mode 0700, when missing) and migrates the database.
   * The database and its -wal and -shm files are made 0600 (an existing looser one is tightened).
   */
  static async open(path: string): Promise<SqliteStore> {
    if (path !== ":memory:") {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await makePrivate(path);
    }
    const db = new Database(path);
    try {
      db.pragma("busy_timeout = 5000");
      db.pragma("journal_mode = WAL");
      // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
      db.pragma("synchronous = NORMAL");
      migrate(db, path);
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  async recordSent(probe: NewProbe): Promise<void> {
    this.insertNew(probe, "sent", probe.sentAtMs, null);
  }

  async recordSendFailed(probe: NewProbe, error: string, atMs: number): Promise<void> {
    this.insertNew(probe, "send-failed", atMs, error);
  }

  async transition(
    probeId: string,
    from: readonly ProbeState[],
    to: ProbeState,
    outcome: ProbeOutcome,
    atMs: number,
  ): Promise<ProbeRecord | undefined> {
    const row = this.transitionProbe.get({
      probeId,
      fromJson: JSON.stringify(from),
      to,
      atMs,
      returnedAtMs: outcome.returnedAtMs ?? null,
      rttMs: outcome.rttMs ?? null,
      remoteArrivedAtMs: outcome.remoteArrivedAtMs ?? null,
      remoteClockOffsetMs: outcome.remoteClockOffsetMs ?? null,
      remoteClockSkewed: outcome.remoteClockSkewed === undefined ? null : Number(outcome.remoteClockSkewed),
      hopsJson: outcome.hops === undefined ? null : JSON.stringify(outcome.hops),
      verdictsJson: outcome.verdicts === undefined ? null : JSON.stringify(outcome.verdicts),
      bounceJson: outcome.bounce === undefined ? null : JSON.stringify(outcome.bounce),
      folder: outcome.folder ?? null,
      error: outcome.error ?? null,
    });
    return row && toRecord(row);
  }

  async unannouncedOutcomes(limit: number): Promise<ProbeRecord[]> {
    return this.selectUnannounced.all(limit).map(toRecord);
  }

  async markOutcomesAnnounced(probes: readonly Pick<ProbeRecord, "probeId" | "state">[]): Promise<void> {
    const db = this.db;
    db.transaction(() => {
      for (const probe of probes) this.markAnnounced.run(probe.probeId, probe.state);
    })();
  }

  async get(probeId: string): Promise<ProbeRecord | undefined> {
    const row = this.selectProbe.get(probeId);
    return row && toRecord(row);
  }

  async overdue(nowMs: number, limit: number): Promise<ProbeRecord[]> {
    return this.selectOverdue.all(nowMs, limit).map(toRecord);
  }

  async recent(targetId: string, sinceMs: number, limit: number): Promise<ProbeRecord[]> {
    return this.selectRecent.all(targetId, sinceMs, limit).map(toRecord);
  }

  async countRejection(reason: RejectReason, detail: string, atMs: number): Promise<void> {
    this.insertRejection.run(reason, detail.slice(0, MAX_REJECTION_DETAIL), atMs);
  }

  async rejectionCounts(sinceMs: number): Promise<Partial<Record<RejectReason, number>>> {
    const counts: Partial<Record<RejectReason, number>> = {};
    for (const { reason, n } of this.countRejections.all(sinceMs)) counts[reason] = n;
    return counts;
  }

  async saveCheckResult(targetId: string, result: CheckResult): Promise<void> {
    this.insertCheckResult(targetId, result);
  }

  /**
   * All in one transaction: the latest view is a query over the history, so the order of
   * writing does not matter and `options` changes nothing here. When the transaction itself
   * fails (the database is closed, the disk full), nothing is stored and every entry gets the error.
   */
  async saveCheckResults(
    entries: readonly StoredCheck[],
    _options: SaveCheckResultsOptions,
  ): Promise<(Error | undefined)[]> {
    try {
      return this.insertChecks(entries);
    } catch (error) {
      return entries.map(() => asError(error));
    }
  }

  async latestCheckResults(): Promise<{ targetId: string; result: CheckResult }[]> {
    return this.selectLatestChecks.all().map((row) => ({
      targetId: row.target_id,
      result: JSON.parse(row.result_json) as CheckResult,
    }));
  }

  async latestCheckResultsOf(targetId: string, endpointPrefix: string): Promise<CheckResult[]> {
    return this.selectLatestChecksOf
      .all(targetId, endpointPrefix, prefixSuccessor(endpointPrefix))
      .map((row) => JSON.parse(row.result_json) as CheckResult);
  }

  async checkHistory(
    targetId: string,
    endpoint: string,
    sinceMs: number,
    limit: number,
  ): Promise<CheckResult[]> {
    return this.selectCheckHistory
      .all(targetId, endpoint, sinceMs, limit)
      .map((row) => JSON.parse(row.result_json) as CheckResult);
  }

  /**
   * Retention: deletes check results and rejections older than `cutoffMs`, and probes sent
   * before it that are no longer waiting ("sent" ones are left for the sweep).
   */
  pruneOlderThan(cutoffMs: number): { checkResults: number; rejections: number; probes: number } {
    return this.prune(cutoffMs);
  }

  private insertCheckResult(targetId: string, result: CheckResult): void {
    this.insertCheck.run(
      targetId,
      result.endpoint,
      startedAtMs(result),
      result.status,
      result.reason,
      JSON.stringify(result),
    );
  }

  private insertNew(probe: NewProbe, state: ProbeState, atMs: number, error: string | null): void {
    try {
      this.insertProbe.run({
        probeId: probe.probeId,
        targetId: probe.targetId,
        toAddress: probe.toAddress,
        messageId: probe.messageId,
        sentAtMs: probe.sentAtMs,
        deadlineMs: probe.deadlineMs,
        state,
        updatedAtMs: atMs,
        error,
      });
    } catch (cause) {
      if ((cause as { code?: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new Error(`probe ${probe.probeId} is already recorded`, { cause });
      }
      throw cause;
    }
  }
}

/**
 * The first string after every string that starts with `prefix` (its last code unit plus one):
 * the open end of the prefix's range in a binary-collated index. Empty prefix: no end.
 */
function prefixSuccessor(prefix: string): string {
  if (prefix === "") return "\u{10FFFF}";
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The time a check started, as stored and indexed; an unreadable one is a bug upstream. */
export function startedAtMs(result: CheckResult): number {
  const ms = Date.parse(result.startedAt);
  if (Number.isNaN(ms)) throw new Error(`check result of ${result.endpoint} has no valid startedAt`);
  return ms;
}

/**
 * The database holds probe ids, hops and check results: readable by its owner only. SQLite
 * creates -wal and -shm with the database file's mode, so the file is created 0600 before
 * SQLite opens it (an empty file is an empty database). The files are this store's alone, so a
 * looser mode left by an older version or a copy is tightened rather than warned about.
 */
async function makePrivate(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  try {
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  for (const companion of [`${path}-wal`, `${path}-shm`]) {
    await chmod(companion, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
}
