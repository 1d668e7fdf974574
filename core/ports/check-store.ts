import type { CheckResult } from "../checks/result.ts";

/** One result to store, of one target. */
export interface StoredCheck {
  readonly targetId: string;
  readonly result: CheckResult;
}

export interface SaveCheckResultsOptions {
  /** At most this many writes in flight (a store that writes in one transaction needs none). */
  readonly concurrency: number;
  /**
   * For stores whose "latest" view is a separate, conditionally written record (DynamoDB): while
   * this answers true, no newer result of the same endpoints can be stored yet, so the latest
   * records may be written without their condition (in batches). Absent means never.
   */
  readonly latestUnconditionally?: () => boolean;
}

/** Where service-check results are kept, per target and endpoint. */
export interface CheckStore {
  saveCheckResult(targetId: string, result: CheckResult): Promise<void>;
  /**
   * Stores many results at once, each with the meaning saveCheckResult gives it. Never rejects:
   * returns, for each entry in order, the error that kept it from being stored, or undefined.
   */
  saveCheckResults(
    entries: readonly StoredCheck[],
    options: SaveCheckResultsOptions,
  ): Promise<(Error | undefined)[]>;
  /** The newest result of every endpoint of every target. */
  latestCheckResults(): Promise<{ targetId: string; result: CheckResult }[]>;
  /**
   * The newest result of each of one target's endpoints whose id starts with `endpointPrefix`
   * ("posture:" for its posture checks): one cheap read, made every cycle.
   */
  latestCheckResultsOf(targetId: string, endpointPrefix: string): Promise<CheckResult[]>;
  /** Results of one endpoint since `sinceMs`, oldest first. */
  checkHistory(targetId: string, endpoint: string, sinceMs: number, limit: number): Promise<CheckResult[]>;
}
