import type { StatusStore, TrackedStatus } from "../../ports/status-store.ts";

/** Tracked statuses in memory: for one-shot commands and tests. Same semantics as SqliteStatusStore. */
export class MemoryStatusStore implements StatusStore {
  private readonly statuses = new Map<string, TrackedStatus>();

  async getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined> {
    return this.statuses.get(keyOf(targetId, subject));
  }

  async putStatus(status: TrackedStatus): Promise<void> {
    // A copy, so a caller changing its object later cannot change what is stored.
    this.statuses.set(keyOf(status.targetId, status.subject), { ...status });
  }

  /** Ordered by target, then subject, as SQLite orders them. */
  async listStatuses(): Promise<TrackedStatus[]> {
    return [...this.statuses.values()].sort(
      (a, b) => compare(a.targetId, b.targetId) || compare(a.subject, b.subject),
    );
  }
}

function keyOf(targetId: string, subject: string): string {
  return JSON.stringify([targetId, subject]);
}

/** Code-unit order, like SQLite's default BINARY collation. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
