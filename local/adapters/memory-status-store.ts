import { compareCodeUnits } from "../../core/basics/code-unit-order.ts";
import {
  atRevision,
  isStillRead,
  revisionOf,
  type StatusStore,
  type TrackedStatus,
} from "../../core/ports/status-store.ts";

/** Tracked statuses in memory: for one-shot commands and tests. Same semantics as SqliteStatusStore. */
export class MemoryStatusStore implements StatusStore {
  private readonly statuses = new Map<string, TrackedStatus>();

  async getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined> {
    return this.statuses.get(keyOf(targetId, subject));
  }

  async putStatus(status: TrackedStatus): Promise<void> {
    // A copy, so a caller changing its object later cannot change what is stored; an empty
    // unannounced list is stored as none, as SQLite and DynamoDB store it.
    const { unannounced, ...rest } = status;
    const copy = unannounced?.length ? { ...rest, unannounced: [...unannounced] } : rest;
    this.statuses.set(keyOf(status.targetId, status.subject), copy);
  }

  async replaceStatus(next: TrackedStatus, read: TrackedStatus | undefined): Promise<boolean> {
    const stored = this.statuses.get(keyOf(next.targetId, next.subject));
    if (!isStillRead(stored && revisionOf(stored), read)) return false;
    await this.putStatus(atRevision(next, revisionOf(read) + 1));
    return true;
  }

  /** Ordered by target, then subject, as SQLite orders them. */
  async listStatuses(): Promise<TrackedStatus[]> {
    return [...this.statuses.values()].sort(
      (a, b) => compareCodeUnits(a.targetId, b.targetId) || compareCodeUnits(a.subject, b.subject),
    );
  }
}

function keyOf(targetId: string, subject: string): string {
  return JSON.stringify([targetId, subject]);
}
