import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { Status } from "../../core/model/status.ts";
import type { CorrelatedProbe, MetricsObserver } from "../../core/ports/metrics.ts";
import type { RejectReason } from "../../core/ports/probe-store.ts";
import { judgedSpam, receiverSpoke } from "../../core/verdicts/receiver-verdicts.ts";

/** CloudWatch namespace when POWERTOOLS_METRICS_NAMESPACE is unset. */
export const DEFAULT_METRICS_NAMESPACE = "EmailScout";

export type ProbeCountMetric =
  | "ProbeReturned"
  | "ProbeLost"
  | "ProbeLate"
  | "ProbeBounced"
  | "ProbeSendFailed";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
interface Group {
  readonly dimensions: Record<string, string>;
  readonly metrics: { name: string; unit: Unit; value: number }[];
}

/*
 * The metric names and dimensions here are a contract with the CDK dashboard and alarms: a
 * CloudWatch metric is identified by its name AND its exact set of dimensions, so each metric
 * carries only the dimensions listed. Powertools adds a "service" dimension by default; it is
 * cleared, or no alarm would ever match.
 *
 *   RoundTripTime (Milliseconds; Target)
 *   ProbeReturned, ProbeLost, ProbeLate, ProbeBounced, ProbeSendFailed (Count; Target)
 *   ProbeJudgedSpam, ProbeDmarcFailed (Count, 0 or 1 per delivered probe the receiver judged; Target)
 *   ProbeInJunk (Count, 0 or 1 per fetched probe: found in the junk folder; Target)
 *   ReturnRejected (Count; Reason)
 *   CheckDuration (Milliseconds), CheckFailed (Count, 1 when CRITICAL or UNKNOWN),
 *   CertificateDaysLeft (Count) (Target, Protocol)
 *   PostureStatus (Count, the Nagios code 0-3), PostureFailed (Count, 1 when CRITICAL or UNKNOWN)
 *   (Target, Check): one each per posture check run (mx, spf, dmarc, ...)
 */

/**
 * Collects metrics during one invocation and writes them as EMF (one JSON log line per set of
 * dimension values) at `flush()`. Call flush in a `finally`, so a failing run still reports
 * what it measured.
 */
export class ScoutMetrics implements MetricsObserver {
  /** By the JSON of their dimensions: a run adds thousands of metrics, each found in one lookup. */
  private groups = new Map<string, Group>();

  constructor(
    private readonly namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
  ) {}

  roundTripTime(target: string, milliseconds: number): void {
    this.add({ Target: target }, "RoundTripTime", MetricUnit.Milliseconds, milliseconds);
  }

  probeCount(name: ProbeCountMetric, target: string, count = 1): void {
    this.add({ Target: target }, name, MetricUnit.Count, count);
  }

  returnRejected(reason: RejectReason): void {
    this.add({ Reason: reason }, "ReturnRejected", MetricUnit.Count, 1);
  }

  /** CheckDuration is the response time thresholds apply to (connect through login). */
  checkResult(target: string, result: CheckResult): void {
    const dimensions = { Target: target, Protocol: result.protocol };
    this.add(dimensions, "CheckDuration", MetricUnit.Milliseconds, result.responseMs);
    const failed = result.status === "CRITICAL" || result.status === "UNKNOWN";
    this.add(dimensions, "CheckFailed", MetricUnit.Count, failed ? 1 : 0);
    const daysLeft = result.tls?.certificate?.daysLeft;
    if (daysLeft !== undefined) this.add(dimensions, "CertificateDaysLeft", MetricUnit.Count, daysLeft);
  }

  checkCompleted(target: string, result: CheckResult): void {
    if (result.posture !== undefined) this.postureResult(target, result.posture.check, result.status);
    else this.checkResult(target, result);
  }

  /**
   * A posture check, by Target and Check (mx, spf, dmarc, ...), apart from the service checks'
   * Target and Protocol series so their alarms count endpoints only. PostureStatus is the Nagios
   * code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); PostureFailed 1 on CRITICAL or UNKNOWN, else 0.
   */
  postureResult(target: string, check: string, status: Status): void {
    const dimensions = { Target: target, Check: check };
    this.add(dimensions, "PostureStatus", MetricUnit.Count, EXIT_CODES[status]);
    const failed = status === "CRITICAL" || status === "UNKNOWN";
    this.add(dimensions, "PostureFailed", MetricUnit.Count, failed ? 1 : 0);
  }

  probeSent(target: string, sendFailed: boolean): void {
    this.probeCount("ProbeSendFailed", target, sendFailed ? 1 : 0);
  }

  probesLost(target: string, count: number): void {
    this.probeCount("ProbeLost", target, count);
  }

  probeCorrelated(kind: "returned" | "late" | "bounced", probe: CorrelatedProbe): void {
    // A late return is not a RoundTripTime sample: the probe already counted as lost at its deadline.
    if (kind === "returned") this.roundTripTime(probe.targetId, probe.rttMs ?? 0);
    const name = kind === "returned" ? "ProbeReturned" : kind === "late" ? "ProbeLate" : "ProbeBounced";
    this.probeCount(name, probe.targetId);
    // Only receivers that stamp verdicts get these series: the rest would pay for zeros.
    if (probe.verdicts !== undefined && receiverSpoke(probe.verdicts)) {
      this.receiverVerdicts(probe.targetId, probe.verdicts);
    }
  }

  /** 0s as well as 1s, so an alarm on either sees data for every judged probe, not silence. */
  receiverVerdicts(target: string, verdicts: NonNullable<CorrelatedProbe["verdicts"]>): void {
    const dimensions = { Target: target };
    this.add(dimensions, "ProbeJudgedSpam", MetricUnit.Count, judgedSpam(verdicts) ? 1 : 0);
    this.add(dimensions, "ProbeDmarcFailed", MetricUnit.Count, verdicts.dmarc?.result === "fail" ? 1 : 0);
    if (verdicts.folder !== undefined) {
      this.add(dimensions, "ProbeInJunk", MetricUnit.Count, verdicts.folder.junk ? 1 : 0);
    }
  }

  /** Writes everything collected so far and starts empty. */
  flush(): void {
    const groups = this.groups;
    this.groups = new Map();
    for (const group of groups.values()) {
      const metrics = new Metrics({ namespace: this.namespace });
      metrics.clearDefaultDimensions();
      for (const [name, value] of Object.entries(group.dimensions)) metrics.addDimension(name, value);
      for (const metric of group.metrics) metrics.addMetric(metric.name, metric.unit, metric.value);
      metrics.publishStoredMetrics();
    }
  }

  /**
   * Metrics with the same dimension values share one EMF line. A repeated metric name in one
   * line becomes a list of values, which CloudWatch records as separate data points.
   */
  private add(dimensions: Record<string, string>, name: string, unit: Unit, value: number): void {
    const key = JSON.stringify(dimensions);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { dimensions, metrics: [] };
      this.groups.set(key, group);
    }
    group.metrics.push({ name, unit, value });
  }
}
