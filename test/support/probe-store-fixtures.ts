import type { CheckStore } from "../../core/ports/check-store.ts";
import type { NewProbe, ProbeRecord, ProbeStore } from "../../core/ports/probe-store.ts";

/** Both ports; MemoryStore, SqliteStore and the DynamoDB stores must all pass this suite. */
export type Store = ProbeStore & CheckStore;

export interface ContractOptions<S extends Store> {
  /**
   * Writes `record` (a probe with a state and no outcome fields) straight into the store's
   * storage the way a version from before announcements did: without the marker. Left out by
   * a store that has no such past (memory).
   */
  readonly writeOldProbe?: (store: S, record: ProbeRecord) => Promise<void>;
}

export const T0 = Date.parse("2026-06-01T00:00:00Z");
export const DEADLINE = 10 * 60_000;

export function probe(probeId: string, sentAtMs = T0, targetId = "mx1"): NewProbe {
  return {
    probeId,
    targetId,
    toAddress: `scout@${targetId}.example.com`,
    messageId: `<${probeId}@scout.example.net>`,
    sentAtMs,
    deadlineMs: sentAtMs + DEADLINE,
  };
}
