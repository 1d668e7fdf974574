import type Database from "better-sqlite3";
import { asUnannouncedChanges } from "../../core/events/unannounced-changes.ts";
import { STATUSES, type Status } from "../../core/model/status.ts";
import {
  atRevision,
  isStillRead,
  revisionOf,
  type StatusStore,
  type TrackedStatus,
  type UnannouncedChange,
} from "../../core/ports/status-store.ts";

interface StatusRow {
  target_id: string;
  subject: string;
  status: string;
  reason: string;
  since_ms: number;
  pending_status: string | null;
  pending_reason: string | null;
  pending_count: number;
  updated_at_ms: number;
  unannounced: string | null;
  revision: number;
}

interface StatusParams {
  targetId: string;
  subject: string;
  status: Status;
  reason: string;
  sinceMs: number;
  pendingStatus: Status | null;
  pendingReason: string | null;
  pendingCount: number;
  updatedAtMs: number;
  unannounced: string | null;
  revision: number;
}

const COLUMNS = `target_id, subject, status, reason, since_ms, pending_status, pending_reason,
  pending_count, updated_at_ms, unannounced, revision`;

/**
 * StatusStore on the `statuses` table (migration 2) of the local database. It shares the
 * connection SqliteStore opened (`store.db`), so one file and one set of migrations serve all.
 */
export class SqliteStatusStore implements StatusStore {
  private readonly selectOne;
  private readonly selectAll;
  private readonly upsert;
  private readonly selectRevision;
  private readonly replace;

  constructor(db: Database.Database) {
    this.selectOne = db.prepare<[string, string], StatusRow>(
      `SELECT ${COLUMNS} FROM statuses WHERE target_id = ? AND subject = ?`,
    );
    this.selectAll = db.prepare<[], StatusRow>(`SELECT ${COLUMNS} FROM statuses ORDER BY target_id, subject`);
    this.upsert = db.prepare<StatusParams>(
      `INSERT INTO statuses (${COLUMNS})
       VALUES (@targetId, @subject, @status, @reason, @sinceMs, @pendingStatus, @pendingReason,
         @pendingCount, @updatedAtMs, @unannounced, @revision)
       ON CONFLICT (target_id, subject) DO UPDATE SET
         status = excluded.status,
         reason = excluded.reason,
         since_ms = excluded.since_ms,
         pending_status = excluded.pending_status,
         pending_reason = excluded.pending_reason,
         pending_count = excluded.pending_count,
         updated_at_ms = excluded.updated_at_ms,
         unannounced = excluded.unannounced,
         revision = excluded.revision`,
    );
    this.selectRevision = db
      .prepare<[string, string], number>("SELECT revision FROM statuses WHERE target_id = ? AND subject = ?")
      .pluck();
    // Read and write in one transaction: no other connection writes in between.
    this.replace = db.transaction((next: TrackedStatus, read: TrackedStatus | undefined): boolean => {
      if (!isStillRead(this.selectRevision.get(next.targetId, next.subject), read)) return false;
      this.upsert.run(paramsOf(atRevision(next, revisionOf(read) + 1)));
      return true;
    });
  }

  async getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined> {
    const row = this.selectOne.get(targetId, subject);
    return row && toStatus(row);
  }

  async putStatus(status: TrackedStatus): Promise<void> {
    this.upsert.run(paramsOf(status));
  }

  async replaceStatus(next: TrackedStatus, read: TrackedStatus | undefined): Promise<boolean> {
    return this.replace.immediate(next, read);
  }

  async listStatuses(): Promise<TrackedStatus[]> {
    return this.selectAll.all().map(toStatus);
  }
}

function paramsOf(status: TrackedStatus): StatusParams {
  return {
    targetId: status.targetId,
    subject: status.subject,
    status: status.status,
    reason: status.reason,
    sinceMs: status.sinceMs,
    pendingStatus: status.pendingStatus ?? null,
    pendingReason: status.pendingReason ?? null,
    pendingCount: status.pendingCount,
    updatedAtMs: status.updatedAtMs,
    unannounced: status.unannounced?.length ? JSON.stringify(status.unannounced) : null,
    revision: revisionOf(status),
  };
}

function toStatus(row: StatusRow): TrackedStatus {
  return {
    targetId: row.target_id,
    subject: row.subject,
    status: asStatus(row.status, row),
    reason: row.reason,
    sinceMs: row.since_ms,
    ...(row.pending_status !== null && { pendingStatus: asStatus(row.pending_status, row) }),
    ...(row.pending_reason !== null && { pendingReason: row.pending_reason }),
    pendingCount: row.pending_count,
    updatedAtMs: row.updated_at_ms,
    ...(row.unannounced !== null && { unannounced: parseUnannounced(row.unannounced, row) }),
    ...(row.revision !== 0 && { revision: row.revision }),
  };
}

/** The JSON the store wrote; anything else means the file was edited by hand. */
function parseUnannounced(text: string, row: StatusRow): UnannouncedChange[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const changes = asUnannouncedChanges(value);
  if (changes === undefined) {
    throw new Error(
      `statuses row (${row.target_id}, ${row.subject}) holds unreadable unannounced changes; ` +
        `set the column to NULL (those status.changed events are then not sent)`,
    );
  }
  return changes;
}

/** The column is TEXT: anything but a known status means the file was edited by hand. */
function asStatus(value: string, row: StatusRow): Status {
  if ((STATUSES as readonly string[]).includes(value)) return value as Status;
  throw new Error(
    `statuses row (${row.target_id}, ${row.subject}) holds the unknown status ${JSON.stringify(value)}; ` +
      `delete the row and the next result will set it again`,
  );
}
