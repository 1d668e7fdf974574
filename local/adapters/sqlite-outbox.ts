import type { Database } from "better-sqlite3";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { EventSink } from "../../core/ports/event-sink.ts";
import { type EndpointFilter, routeEvent } from "../../core/webhook/routing.ts";

/**
 * pending: waiting for its next attempt; delivered: a 2xx came back; failed: retries ran out
 * (maxAgeSeconds); rejected: a 3xx/4xx that retrying cannot fix; gone: the endpoint answered 410.
 */
export const OUTBOX_STATES = ["pending", "delivered", "failed", "rejected", "gone"] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** One event for one endpoint. */
export interface OutboxRow {
  readonly eventId: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly eventJson: string;
  /** When it was queued, or last redriven: the start of its retry window. */
  readonly createdAtMs: number;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptMs: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly updatedAtMs: number;
}

export interface RedriveFilter {
  readonly endpointId?: string;
  readonly eventId?: string;
}

interface RawRow {
  event_id: string;
  endpoint_id: string;
  event_type: string;
  event_json: string;
  created_at_ms: number;
  state: OutboxState;
  attempts: number;
  next_attempt_ms: number;
  last_status: number | null;
  last_error: string | null;
  updated_at_ms: number;
}

interface FinishParams {
  eventId: string;
  endpointId: string;
  state: OutboxState;
  status: number | null;
  error: string | null;
  nowMs: number;
}

const COLUMNS = `event_id, endpoint_id, event_type, event_json, created_at_ms, state, attempts,
  next_attempt_ms, last_status, last_error, updated_at_ms`;
/** States a redrive brings back to pending. */
const REDRIVABLE: readonly OutboxState[] = ["failed", "rejected", "gone"];

/**
 * The webhook outbox on the monitor's SQLite file (table `outbox`, migration 2): one row per
 * event and endpoint that wants it. `publish` writes every row of a batch in one transaction,
 * so an event is either queued for all its endpoints or for none; a second publish of
 * the same event is skipped row by row, so duplicates are harmless.
 */
export class SqliteOutbox implements EventSink {
  private readonly insert;
  private readonly selectDue;
  private readonly selectDueExcept;
  private readonly holdRows;
  private readonly releaseRows;
  private readonly expireRows;
  private readonly selectNextDue;
  private readonly finish;
  private readonly reschedule;
  private readonly goneForEndpoint;
  private readonly redriveRows;
  private readonly listeners = new Set<() => void>();
  /** Endpoints that answered 410 in this process: their new events are kept as "gone", not sent. */
  private readonly goneEndpoints = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly endpoints: readonly EndpointFilter[],
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare(
      // ON CONFLICT rather than OR IGNORE: only a duplicate is skipped, a NOT NULL breach still fails.
      `INSERT INTO outbox (event_id, endpoint_id, event_type, event_json, created_at_ms, state,
         attempts, next_attempt_ms, updated_at_ms)
       VALUES (@eventId, @endpointId, @eventType, @eventJson, @nowMs, @state, 0, @nowMs, @nowMs)
       ON CONFLICT (event_id, endpoint_id) DO NOTHING`,
    );
    this.selectDue = db.prepare<[number, number], RawRow>(
      // Ordered by the index alone (state, next_attempt_ms): a tie-breaker column would make
      // SQLite sort every due row to find the first few, which a backlog makes slow.
      `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_ms <= ?
       ORDER BY next_attempt_ms LIMIT ?`,
    );
    this.selectDueExcept = db.prepare<[number, string, number], RawRow>(
      `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_ms <= ?
         AND endpoint_id NOT IN (SELECT value FROM json_each(?))
       ORDER BY next_attempt_ms LIMIT ?`,
    );
    this.holdRows = db.prepare<{ endpointId: string; untilMs: number }>(
      `UPDATE outbox SET next_attempt_ms = @untilMs
       WHERE endpoint_id = @endpointId AND state = 'pending' AND next_attempt_ms <> @untilMs`,
    );
    this.releaseRows = db.prepare<{ endpointId: string; nowMs: number }>(
      `UPDATE outbox SET next_attempt_ms = @nowMs
       WHERE endpoint_id = @endpointId AND state = 'pending' AND next_attempt_ms > @nowMs`,
    );
    this.expireRows = db.prepare<{ endpointId: string; cutoffMs: number; error: string; nowMs: number }>(
      `UPDATE outbox SET state = 'failed', last_error = @error, updated_at_ms = @nowMs
       WHERE endpoint_id = @endpointId AND state = 'pending' AND created_at_ms <= @cutoffMs`,
    );
    this.selectNextDue = db.prepare<[number], { next: number | null }>(
      `SELECT MIN(next_attempt_ms) AS next FROM outbox WHERE state = 'pending' AND next_attempt_ms > ?`,
    );
    this.finish = db.prepare<FinishParams>(
      `UPDATE outbox SET state = @state, attempts = attempts + 1, last_status = @status,
         last_error = @error, updated_at_ms = @nowMs
       WHERE event_id = @eventId AND endpoint_id = @endpointId AND state = 'pending'`,
    );
    this.reschedule = db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = @nextAttemptMs, last_status = @status,
         last_error = @error, updated_at_ms = @nowMs
       WHERE event_id = @eventId AND endpoint_id = @endpointId AND state = 'pending'`,
    );
    this.goneForEndpoint = db.prepare<{ endpointId: string; error: string; nowMs: number }>(
      `UPDATE outbox SET state = 'gone', last_error = COALESCE(last_error, @error), updated_at_ms = @nowMs
       WHERE endpoint_id = @endpointId AND state = 'pending'`,
    );
    this.redriveRows = db.prepare<{ endpointId: string | null; eventId: string | null; nowMs: number }>(
      `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = @nowMs, created_at_ms = @nowMs,
         updated_at_ms = @nowMs
       WHERE state IN (SELECT value FROM json_each('${JSON.stringify(REDRIVABLE)}'))
         AND (@endpointId IS NULL OR endpoint_id = @endpointId)
         AND (@eventId IS NULL OR event_id = @eventId)`,
    );
  }

  /** Queues each event for every endpoint that wants it; resolves once committed. */
  async publish(events: readonly ScoutEvent[]): Promise<void> {
    const nowMs = this.clock.now();
    let queued = 0;
    this.db.transaction(() => {
      for (const event of events) {
        const eventJson = JSON.stringify(event);
        for (const endpoint of routeEvent(event, this.endpoints)) {
          const state: OutboxState = this.goneEndpoints.has(endpoint.id) ? "gone" : "pending";
          const { changes } = this.insert.run({
            eventId: event.id,
            endpointId: endpoint.id,
            eventType: event.type,
            eventJson,
            nowMs,
            state,
          });
          if (state === "pending") queued += changes;
        }
      }
    })();
    if (queued > 0) for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every publish that queued something to send; returns the unsubscribe. */
  onQueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Pending rows whose next attempt is due, oldest first (rows due at the same time in the order
   * they were queued), leaving out the endpoints in `except`.
   */
  due(nowMs: number, limit: number, except: readonly string[] = []): OutboxRow[] {
    const raw =
      except.length === 0
        ? this.selectDue.all(nowMs, limit)
        : this.selectDueExcept.all(nowMs, JSON.stringify(except), limit);
    return raw.map(toRow);
  }

  /**
   * Every pending row of the endpoint waits until `untilMs`, all due at that one time, so they
   * keep their queued order and the oldest comes first. Returns how many rows moved.
   */
  holdEndpoint(endpointId: string, untilMs: number): number {
    return this.holdRows.run({ endpointId, untilMs }).changes;
  }

  /** Every pending row of the endpoint is due now, in queued order. Returns how many moved. */
  releaseEndpoint(endpointId: string, nowMs: number): number {
    return this.releaseRows.run({ endpointId, nowMs }).changes;
  }

  /**
   * Pending rows of the endpoint queued at or before `cutoffMs` (past the age limit) become
   * failed with `error`, without an attempt of their own. Returns how many.
   */
  expireEndpoint(endpointId: string, cutoffMs: number, error: string, nowMs: number): number {
    return this.expireRows.run({ endpointId, cutoffMs, error, nowMs }).changes;
  }

  /** The earliest next attempt after `nowMs`, if any row waits for one. */
  nextDueAfter(nowMs: number): number | undefined {
    return this.selectNextDue.get(nowMs)?.next ?? undefined;
  }

  markDelivered(row: RowKey, status: number, nowMs: number): void {
    this.goneEndpoints.delete(row.endpointId);
    this.finish.run({ ...key(row), state: "delivered", status, error: null, nowMs });
  }

  markRetry(
    row: RowKey,
    nextAttemptMs: number,
    status: number | undefined,
    error: string,
    nowMs: number,
  ): void {
    this.reschedule.run({ ...key(row), nextAttemptMs, status: status ?? null, error, nowMs });
  }

  markFailed(row: RowKey, status: number | undefined, error: string, nowMs: number): void {
    this.finish.run({ ...key(row), state: "failed", status: status ?? null, error, nowMs });
  }

  markRejected(row: RowKey, status: number | undefined, error: string, nowMs: number): void {
    this.finish.run({ ...key(row), state: "rejected", status: status ?? null, error, nowMs });
  }

  /**
   * The endpoint answered 410 Gone: this row and every other pending row of the endpoint become
   * "gone", and events published later in this process are kept as "gone" too, never sent. A
   * restart or a redrive tries the endpoint again. Returns how many rows it stopped.
   */
  markGone(row: RowKey, status: number, error: string, nowMs: number): number {
    this.goneEndpoints.add(row.endpointId);
    return this.db.transaction(() => {
      this.finish.run({ ...key(row), state: "gone", status, error, nowMs });
      const others = this.goneForEndpoint.run({
        endpointId: row.endpointId,
        error: "not sent: the endpoint answered 410 Gone",
        nowMs,
      });
      return 1 + others.changes;
    })();
  }

  /**
   * Runs `work` (marks of several rows) as one transaction: one commit for a whole batch of
   * finished attempts instead of one each.
   */
  inTransaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** Rows in the given states (all when none given), newest first. */
  list(states: readonly OutboxState[] = [], limit = 1000): OutboxRow[] {
    const wanted = states.length ? states : OUTBOX_STATES;
    return this.db
      .prepare<[string, number], RawRow>(
        `SELECT ${COLUMNS} FROM outbox WHERE state IN (SELECT value FROM json_each(?))
         ORDER BY created_at_ms DESC, event_id DESC LIMIT ?`,
      )
      .all(JSON.stringify(wanted), limit)
      .map(toRow);
  }

  /**
   * Deletes delivered rows last touched before `cutoffMs` (the monitor's retention). Failed,
   * rejected and gone rows stay until redriven and delivered: they are what an operator
   * still has to look at. Returns how many rows went.
   */
  pruneDelivered(cutoffMs: number): number {
    return this.db
      .prepare<[number]>("DELETE FROM outbox WHERE state = 'delivered' AND updated_at_ms < ?")
      .run(cutoffMs).changes;
  }

  /** Counts per state, for status pages and logs. */
  counts(): Record<OutboxState, number> {
    const counts = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxState, number>;
    const rows = this.db
      .prepare<[], { state: OutboxState; n: number }>(
        "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state",
      )
      .all();
    for (const { state, n } of rows) counts[state] = n;
    return counts;
  }

  /**
   * Failed, rejected and gone rows (narrowed by endpoint and/or event) become pending again, due
   * now, with a fresh retry window. Returns how many.
   */
  redrive(filter: RedriveFilter = {}): number {
    const nowMs = this.clock.now();
    if (filter.endpointId) this.goneEndpoints.delete(filter.endpointId);
    else if (!filter.eventId) this.goneEndpoints.clear();
    const { changes } = this.redriveRows.run({
      endpointId: filter.endpointId ?? null,
      eventId: filter.eventId ?? null,
      nowMs,
    });
    if (changes > 0) for (const listener of this.listeners) listener();
    return changes;
  }
}

/** What names one outbox row. */
export type RowKey = Pick<OutboxRow, "eventId" | "endpointId">;

function key(row: RowKey): { eventId: string; endpointId: string } {
  return { eventId: row.eventId, endpointId: row.endpointId };
}

function toRow(raw: RawRow): OutboxRow {
  return {
    eventId: raw.event_id,
    endpointId: raw.endpoint_id,
    eventType: raw.event_type,
    eventJson: raw.event_json,
    createdAtMs: raw.created_at_ms,
    state: raw.state,
    attempts: raw.attempts,
    nextAttemptMs: raw.next_attempt_ms,
    ...(raw.last_status === null ? {} : { lastStatus: raw.last_status }),
    ...(raw.last_error === null ? {} : { lastError: raw.last_error }),
    updatedAtMs: raw.updated_at_ms,
  };
}
