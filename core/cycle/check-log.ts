import type { CheckResult } from "../checks/result.ts";
import type { Logger } from "../ports/logger.ts";

/** The "check" log line of one result, alike in local mode and the prober Lambda: warn unless OK. */
export function logCheckResult(log: Logger, targetId: string, result: CheckResult): void {
  const level = result.status === "OK" ? "info" : "warn";
  log[level]("check", {
    target: targetId,
    endpoint: result.endpoint,
    status: result.status,
    reason: result.reason,
    ms: result.responseMs,
  });
}
