import {
  atRevision,
  isStillRead,
  revisionOf,
  type StatusStore,
  type TrackedStatus,
} from "../../core/ports/status-store.ts";

const DAY_MS = 86_400_000;

export interface StatusSnapshotOptions {
  readonly store: StatusStore;
  /** The statuses' retention: a stable subject is rewritten well before its TTL runs out. */
  readonly retentionDays: number;
  /**
   * Subjects other functions write too (the correlator's "roundtrip"): read and written item by
   * item through `store`, never from the snapshot, so late verdicts keep their ordering rule.
   */
  readonly sharedSubject: (subject: string) => boolean;
  /** Longest a stable subject goes unwritten: a day by default, at most a quarter of the retention. */
  readonly refreshAfterMs?: number;
}

interface Known {
  /** What the table holds, as far as this run knows. */
  stored: TrackedStatus | undefined;
  /** What this run's reads see: `stored`, or a newer record not worth writing. */
  current: TrackedStatus | undefined;
}

/**
 * A StatusStore for one prober run: every status is read with one Query (instead of a GetItem
 * per subject), and the tracker's write (replaceStatus) goes to the table only when the record
 * changes in more than its time: status, reason, since, the pending candidate or the changes
 * still to announce. A stable subject (the same status again) costs no write, except once per
 * `refreshAfterMs`, which keeps its TTL alive. A write is conditional on the item being the one
 * this run last knew; when another writer came in between, the run re-reads the item and the
 * tracker applies its result again to it.
 *
 * Because a skipped write leaves the stored `updatedAtMs` behind, a result older than this run's
 * yet newer than the stored time (an overlapping, slower run) is applied instead of being
 * dropped as stale. Only the prober observes these subjects, and its runs overlap only when one
 * outlasts the interval: that result is then a real measurement reported late, never lost data.
 * Prober shards run side by side, but each observes only its own targets: it reads every status
 * and writes only those (tested in prober-shards.test.ts).
 */
export class DynamoStatusSnapshot implements StatusStore {
  private loading: Promise<Map<string, Known> | undefined> | undefined;
  private readonly refreshAfterMs: number;
  /** Why the Query failed, if it did: the snapshot then reads and writes item by item. */
  loadError: Error | undefined;

  constructor(private readonly options: StatusSnapshotOptions) {
    this.refreshAfterMs = options.refreshAfterMs ?? Math.min(DAY_MS, (options.retentionDays * DAY_MS) / 4);
  }

  /** Starts the Query now, so it runs while the caller does other work. */
  preload(): void {
    void this.known();
  }

  async getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined> {
    const known = this.options.sharedSubject(subject) ? undefined : await this.known();
    if (known === undefined) return this.options.store.getStatus(targetId, subject);
    return known.get(keyOf(targetId, subject))?.current;
  }

  /**
   * The tracker's conditional write. A stable record is not written; any other is written only
   * if the table still holds what this run last knew of the item. When another writer came in
   * between (an overlapping run), the run's view of the item is refreshed from the table and
   * false tells the tracker to apply its result again.
   */
  async replaceStatus(next: TrackedStatus, read: TrackedStatus | undefined): Promise<boolean> {
    const known = this.options.sharedSubject(next.subject) ? undefined : await this.known();
    if (known === undefined) return this.options.store.replaceStatus(next, read);
    const key = keyOf(next.targetId, next.subject);
    const entry = known.get(key) ?? { stored: undefined, current: undefined };
    known.set(key, entry);
    // The tracker re-reads and re-applies when its read is not what this run holds now (a
    // write skipped below keeps the revision; its time tells it apart).
    const { current, stored } = entry;
    if (!isStillRead(current && revisionOf(current), read) || current?.updatedAtMs !== read?.updatedAtMs) {
      return false;
    }
    if (
      stored !== undefined &&
      sameRecord(stored, next) &&
      next.updatedAtMs - stored.updatedAtMs < this.refreshAfterMs
    ) {
      // Not written: the run sees it, at the revision the table still has.
      entry.current = atRevision(next, revisionOf(stored));
      return true;
    }
    if (await this.options.store.replaceStatus(next, stored)) {
      entry.stored = atRevision(next, revisionOf(stored) + 1);
      entry.current = entry.stored;
      return true;
    }
    const fresh = await this.options.store.getStatus(next.targetId, next.subject);
    entry.stored = fresh;
    entry.current = fresh;
    return false;
  }

  async listStatuses(): Promise<TrackedStatus[]> {
    const known = await this.known();
    if (known === undefined) return this.options.store.listStatuses();
    return [...known.values()].flatMap((entry) => (entry.current === undefined ? [] : [entry.current]));
  }

  private known(): Promise<Map<string, Known> | undefined> {
    this.loading ??= this.options.store.listStatuses({ consistent: true }).then(
      (statuses) =>
        new Map(
          statuses.map((status) => [
            keyOf(status.targetId, status.subject),
            { stored: status, current: status },
          ]),
        ),
      (error: unknown) => {
        this.loadError = error instanceof Error ? error : new Error(String(error));
        return undefined;
      },
    );
    return this.loading;
  }
}

function keyOf(targetId: string, subject: string): string {
  return `${targetId}\u0000${subject}`;
}

/** Equal in everything the tracker decides on, its time (updatedAtMs) aside. */
function sameRecord(a: TrackedStatus, b: TrackedStatus): boolean {
  return (
    unannouncedIds(a) === unannouncedIds(b) &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.sinceMs === b.sinceMs &&
    a.pendingStatus === b.pendingStatus &&
    a.pendingReason === b.pendingReason &&
    a.pendingCount === b.pendingCount
  );
}

function unannouncedIds(status: TrackedStatus): string {
  return (status.unannounced ?? []).map((change) => change.eventId).join(",");
}
