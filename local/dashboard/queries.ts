import type { Database } from "better-sqlite3";
import type { Status } from "../../core/model/status.ts";
import type { ProbeState, RejectReason } from "../../core/ports/probe-store.ts";

/**
 * Read-only queries the dashboard needs beyond the store's ports. They run on the store's
 * own connection (WAL lets them read while the monitor writes) and never write.
 */

/** One check result reduced to what a latency chart needs. */
export interface CheckPoint {
  readonly endpoint: string;
  readonly protocol: string;
  readonly atMs: number;
  readonly status: Status;
  readonly responseMs: number;
}

/** Check results of one target since `sinceMs` (optionally one endpoint), oldest first. */
export function checkPoints(
  db: Database,
  targetId: string,
  sinceMs: number,
  endpoint: string | undefined,
  limit: number,
): CheckPoint[] {
  // json_extract keeps the big result documents inside SQLite: a week of checks is many rows.
  return db
    .prepare<[string, number, string | null, string | null, number], CheckPoint>(
      `SELECT endpoint, json_extract(result_json, '$.protocol') AS protocol, started_at_ms AS atMs,
         status, json_extract(result_json, '$.responseMs') AS responseMs
       FROM check_results
       WHERE target_id = ? AND started_at_ms >= ? AND (? IS NULL OR endpoint = ?)
       ORDER BY started_at_ms, id LIMIT ?`,
    )
    .all(targetId, sinceMs, endpoint ?? null, endpoint ?? null, limit);
}

/** How many probes each target has in each state (every retained probe). */
export function probeStateCounts(db: Database): { targetId: string; state: ProbeState; count: number }[] {
  return db
    .prepare<[], { targetId: string; state: ProbeState; count: number }>(
      "SELECT target_id AS targetId, state, COUNT(*) AS count FROM probes GROUP BY target_id, state",
    )
    .all();
}

/** Round-trip times (ms) of every retained probe that came back (returned or late), per target. */
export function returnedRtts(db: Database): { targetId: string; rttMs: number }[] {
  return db
    .prepare<[], { targetId: string; rttMs: number }>(
      `SELECT target_id AS targetId, rtt_ms AS rttMs FROM probes
       WHERE state IN ('returned', 'late') AND rtt_ms IS NOT NULL`,
    )
    .all();
}

/** Rejected returns by reason, every retained one. */
export function rejectionTotals(db: Database): { reason: RejectReason; count: number }[] {
  return db
    .prepare<[], { reason: RejectReason; count: number }>(
      "SELECT reason, COUNT(*) AS count FROM rejections GROUP BY reason ORDER BY reason",
    )
    .all();
}
