import type { Database } from "better-sqlite3";

/**
 * The schema, as ordered steps. `PRAGMA user_version` holds how many have been applied;
 * never edit a step that has shipped, append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE probes (
    probe_id TEXT PRIMARY KEY,
    target_id TEXT NOT NULL,
    to_address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    returned_at_ms INTEGER,
    rtt_ms INTEGER,
    remote_arrived_at_ms INTEGER,
    remote_clock_offset_ms REAL,
    hops_json TEXT,
    bounce_json TEXT,
    error TEXT
  ) STRICT;
  CREATE INDEX probes_by_state_deadline ON probes (state, deadline_ms);
  CREATE INDEX probes_by_target_sent ON probes (target_id, sent_at_ms);

  CREATE TABLE rejections (
    id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX rejections_by_time ON rejections (at_ms);

  CREATE TABLE check_results (
    id INTEGER PRIMARY KEY,
    target_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    result_json TEXT NOT NULL
  ) STRICT;
  CREATE INDEX check_results_by_endpoint_time ON check_results (target_id, endpoint, started_at_ms);
  `,
  // 2: status per subject with flap control, and the webhook outbox (one row per event and endpoint).
  `
  CREATE TABLE statuses (
    target_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    pending_status TEXT,
    pending_reason TEXT,
    pending_count INTEGER NOT NULL DEFAULT 0,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (target_id, subject)
  ) STRICT;

  CREATE TABLE outbox (
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, endpoint_id)
  ) STRICT;
  CREATE INDEX outbox_by_state_next ON outbox (state, next_attempt_ms);
  `,
  // 3: confirmed status changes whose event is not queued yet (JSON array), kept with the status,
  // and the record's revision, which conditional writes compare. Probes: whether the event of
  // their current outcome is queued (older rows: yes; every outcome written from now: not yet).
  `
  ALTER TABLE statuses ADD COLUMN unannounced TEXT;
  ALTER TABLE statuses ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE probes ADD COLUMN announced INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX probes_unannounced ON probes (updated_at_ms) WHERE announced = 0;
  `,
  // 3: a return whose remote clock was outside send..receipt (no offset drawn from it).
  `
  ALTER TABLE probes ADD COLUMN remote_clock_skewed INTEGER;
  `,
  // 5: fetch mode, the folder the probe was found in (inbox or junk).
  `
  ALTER TABLE probes ADD COLUMN folder TEXT;
  `,
  // 6: the receiver's verdicts on a delivered probe (SPF, DKIM, DMARC, ARC, spam), as JSON.
  `
  ALTER TABLE probes ADD COLUMN verdicts_json TEXT;
  `,
];

/** The database was written by a newer Email Scout whose schema this one does not know. */
export class SchemaTooNewError extends Error {
  override readonly name = "SchemaTooNewError";
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `database at ${path} was written by a newer Email Scout (schema ${found}, this one knows ${known})`,
    );
  }
}

function userVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings the database up to the newest schema, one step per transaction. Each step starts
 * with BEGIN IMMEDIATE and re-reads the version, so two processes opening a fresh file at
 * once apply every step exactly once.
 */
export function migrate(db: Database, path: string, steps: readonly string[] = MIGRATIONS): void {
  const found = userVersion(db);
  if (found > steps.length) throw new SchemaTooNewError(path, found, steps.length);
  const applyNext = db.transaction((): boolean => {
    const version = userVersion(db);
    const step = steps[version];
    if (step === undefined) return false;
    db.exec(step);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (applyNext.immediate()) {
    // one step per transaction
  }
}
