import { compareCodeUnits } from "../../core/basics/code-unit-order.ts";
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

interface SavedCheck {
  readonly targetId: string;
  readonly startedAtMs: number;
  /** Insertion order: breaks ties between results that started in the same millisecond. */
  readonly seq: number;
  readonly result: CheckResult;
}

/**
 * The stores in memory: for the one-shot `email-scout probe` (no database) and for tests.
 * Same semantics as SqliteStore; a transition checks and writes with no await in between,
 * so it is as atomic as SQLite's conditional UPDATE.
 */
export class MemoryStore implements ProbeStore, CheckStore {
  private readonly probes = new Map<string, ProbeRecord>();
  /** Probes whose current outcome is not announced yet. */
  private readonly unannounced = new Set<string>();
  private readonly rejections: { reason: RejectReason; detail: string; atMs: number }[] = [];
  private readonly checks: SavedCheck[] = [];

  async recordSent(probe: NewProbe): Promise<void> {
    this.insertNew({ ...newProbe(probe), state: "sent", updatedAtMs: probe.sentAtMs });
  }

  async recordSendFailed(probe: NewProbe, error: string, atMs: number): Promise<void> {
    this.insertNew({ ...newProbe(probe), state: "send-failed", updatedAtMs: atMs, error });
    this.unannounced.add(probe.probeId);
  }

  async transition(
    probeId: string,
    from: readonly ProbeState[],
    to: ProbeState,
    outcome: ProbeOutcome,
    atMs: number,
  ): Promise<ProbeRecord | undefined> {
    const current = this.probes.get(probeId);
    if (current === undefined || !from.includes(current.state)) return undefined;
    // Like SQLite's COALESCE: an outcome field left undefined keeps its earlier value.
    const given = Object.fromEntries(Object.entries(outcome).filter(([, value]) => value !== undefined));
    const next: ProbeRecord = { ...current, ...given, state: to, updatedAtMs: atMs };
    this.probes.set(probeId, next);
    this.unannounced.add(probeId);
    return next;
  }

  async unannouncedOutcomes(limit: number): Promise<ProbeRecord[]> {
    return [...this.unannounced]
      .flatMap((probeId) => this.probes.get(probeId) ?? [])
      .sort((a, b) => a.updatedAtMs - b.updatedAtMs || compareCodeUnits(a.probeId, b.probeId))
      .slice(0, limit);
  }

  async markOutcomesAnnounced(probes: readonly Pick<ProbeRecord, "probeId" | "state">[]): Promise<void> {
    for (const { probeId, state } of probes) {
      if (this.probes.get(probeId)?.state === state) this.unannounced.delete(probeId);
    }
  }

  async get(probeId: string): Promise<ProbeRecord | undefined> {
    return this.probes.get(probeId);
  }

  async overdue(nowMs: number, limit: number): Promise<ProbeRecord[]> {
    return [...this.probes.values()]
      .filter((p) => p.state === "sent" && p.deadlineMs < nowMs)
      .sort((a, b) => a.deadlineMs - b.deadlineMs || compareCodeUnits(a.probeId, b.probeId))
      .slice(0, limit);
  }

  async recent(targetId: string, sinceMs: number, limit: number): Promise<ProbeRecord[]> {
    return [...this.probes.values()]
      .filter((p) => p.targetId === targetId && p.sentAtMs >= sinceMs)
      .sort((a, b) => b.sentAtMs - a.sentAtMs || compareCodeUnits(b.probeId, a.probeId))
      .slice(0, limit);
  }

  async countRejection(reason: RejectReason, detail: string, atMs: number): Promise<void> {
    this.rejections.push({ reason, detail: detail.slice(0, MAX_REJECTION_DETAIL), atMs });
  }

  async rejectionCounts(sinceMs: number): Promise<Partial<Record<RejectReason, number>>> {
    const counts: Partial<Record<RejectReason, number>> = {};
    for (const { reason, atMs } of this.rejections) {
      if (atMs >= sinceMs) counts[reason] = (counts[reason] ?? 0) + 1;
    }
    return counts;
  }

  async saveCheckResult(targetId: string, result: CheckResult): Promise<void> {
    const startedAtMs = Date.parse(result.startedAt);
    if (Number.isNaN(startedAtMs))
      throw new Error(`check result of ${result.endpoint} has no valid startedAt`);
    this.checks.push({ targetId, startedAtMs, seq: this.checks.length, result });
  }

  /** Each entry is stored or refused on its own; `options` changes nothing in memory. */
  async saveCheckResults(
    entries: readonly StoredCheck[],
    _options: SaveCheckResultsOptions,
  ): Promise<(Error | undefined)[]> {
    const errors: (Error | undefined)[] = [];
    for (const { targetId, result } of entries) {
      errors.push(await this.saveCheckResult(targetId, result).then(() => undefined, asError));
    }
    return errors;
  }

  async latestCheckResults(): Promise<{ targetId: string; result: CheckResult }[]> {
    const newest = new Map<string, SavedCheck>();
    for (const check of this.checks) {
      const key = JSON.stringify([check.targetId, check.result.endpoint]);
      const seen = newest.get(key);
      if (seen === undefined || byTime(check, seen) > 0) newest.set(key, check);
    }
    return [...newest.values()]
      .sort(
        (a, b) =>
          compareCodeUnits(a.targetId, b.targetId) || compareCodeUnits(a.result.endpoint, b.result.endpoint),
      )
      .map(({ targetId, result }) => ({ targetId, result }));
  }

  async latestCheckResultsOf(targetId: string, endpointPrefix: string): Promise<CheckResult[]> {
    return (await this.latestCheckResults())
      .filter((entry) => entry.targetId === targetId && entry.result.endpoint.startsWith(endpointPrefix))
      .map((entry) => entry.result);
  }

  /** The newest `limit` results since `sinceMs`, oldest first. */
  async checkHistory(
    targetId: string,
    endpoint: string,
    sinceMs: number,
    limit: number,
  ): Promise<CheckResult[]> {
    const matching = this.checks
      .filter((c) => c.targetId === targetId && c.result.endpoint === endpoint && c.startedAtMs >= sinceMs)
      .sort(byTime);
    return matching.slice(Math.max(0, matching.length - limit)).map((c) => c.result);
  }

  private insertNew(record: ProbeRecord): void {
    if (this.probes.has(record.probeId)) throw new Error(`probe ${record.probeId} is already recorded`);
    this.probes.set(record.probeId, record);
  }
}

/** Only the fields SQLite keeps, whatever else the caller's object carries. */
function newProbe({ probeId, targetId, toAddress, messageId, sentAtMs, deadlineMs }: NewProbe): NewProbe {
  return { probeId, targetId, toAddress, messageId, sentAtMs, deadlineMs };
}

function byTime(a: SavedCheck, b: SavedCheck): number {
  return a.startedAtMs - b.startedAtMs || a.seq - b.seq;
}
