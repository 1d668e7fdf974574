import type { CheckResult } from "../checks/result.ts";

/** Where service-check results are kept, per target and endpoint. */
export interface CheckStore {
  saveCheckResult(targetId: string, result: CheckResult): Promise<void>;
  /** The newest result of every endpoint of every target. */
  latestCheckResults(): Promise<{ targetId: string; result: CheckResult }[]>;
  /** Results of one endpoint since `sinceMs`, oldest first. */
  checkHistory(targetId: string, endpoint: string, sinceMs: number, limit: number): Promise<CheckResult[]>;
}
