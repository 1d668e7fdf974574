import type { JobPorts } from "../ports/job-ports.ts";
import type { CorrelationOutcome } from "../roundtrip/correlate.ts";

/** Metrics and one log line per inbound outcome, alike in both shells; `source` is the S3 key or spool id. */
export function reportOutcome(
  ports: Pick<JobPorts, "metrics" | "log">,
  outcome: CorrelationOutcome,
  source: string,
): void {
  const { metrics, log } = ports;
  switch (outcome.kind) {
    case "returned":
    case "late": {
      const { probe } = outcome;
      metrics.probeCorrelated(outcome.kind, probe);
      log.info(`probe ${outcome.kind}`, {
        target: probe.targetId,
        probe: probe.probeId,
        rttMs: probe.rttMs,
        source,
      });
      return;
    }
    case "bounced":
      metrics.probeCorrelated("bounced", outcome.probe);
      log.warn("probe bounced", {
        target: outcome.probe.targetId,
        probe: outcome.probe.probeId,
        status: outcome.probe.bounce?.status,
        diagnostic: outcome.probe.bounce?.diagnostic,
        source,
      });
      return;
    case "rejected":
      metrics.returnRejected(outcome.reason);
      log.warn("return rejected", {
        reason: outcome.reason,
        detail: outcome.detail,
        probe: outcome.probeId,
        source,
      });
      return;
    default:
      log.info(`inbound ${outcome.kind}`, { probe: outcome.probeId, source });
  }
}
