import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type { Protocol } from "../../core/checks/endpoint-kinds.ts";
import type { ProbeCountMetric } from "../../lambdas/aws/scout-metrics.ts";

/**
 * The custom metrics the handlers emit (EMF, namespace EmailScout). Names and dimensions here must
 * match the handlers exactly: a metric with one dimension more or less is another metric.
 * Times are in milliseconds.
 */
export const METRICS_NAMESPACE = "EmailScout";

function metric(
  metricName: string,
  dimensionsMap: Record<string, string>,
  statistic: string,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap,
    statistic,
    period,
  });
}

/** Round-trip time of a returned probe, ms; dimension Target. */
export function roundTripTime(target: string, statistic: "p50" | "p95", period = Duration.minutes(5)) {
  return metric("RoundTripTime", { Target: target }, statistic, period);
}

/** Count of probes that ended in this outcome; dimension Target. */
export function probeOutcome(name: ProbeCountMetric, target: string, period = Duration.minutes(5)) {
  return metric(name, { Target: target }, "Sum", period);
}

/**
 * What receivers said of delivered probes: 1 for a probe judged spam, failing DMARC, or found
 * in the junk folder, 0 otherwise; only receivers that stamp verdicts report them. Maximum:
 * one such probe in the period shows.
 */
export function receiverVerdict(
  name: "ProbeJudgedSpam" | "ProbeDmarcFailed" | "ProbeInJunk",
  target: string,
  period = Duration.minutes(5),
) {
  return metric(name, { Target: target }, "Maximum", period);
}

/**
 * Returns the correlator refused (forged, unknown probe, malformed...), one line per Reason: a
 * SEARCH, since the reasons are the correlator's to name.
 */
export function returnsRejectedByReason(period = Duration.minutes(5)): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},Reason} MetricName="ReturnRejected"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    label: "",
    period,
  });
}

/** Response time of one service check, ms; dimensions Target and Protocol (CheckResult.protocol). */
export function checkDuration(
  target: string,
  protocol: Protocol,
  statistic = "p95",
  period = Duration.minutes(5),
) {
  return metric("CheckDuration", { Target: target, Protocol: protocol }, statistic, period);
}

/**
 * 1 for a failed check, 0 for a passed one, one sample per endpoint and check; dimensions Target
 * and Protocol. Sum counts the failures of a period, Maximum says whether any endpoint failed.
 */
export function checkFailed(
  target: string,
  protocol: Protocol,
  statistic: "Sum" | "Maximum" = "Sum",
  period = Duration.minutes(5),
) {
  return metric("CheckFailed", { Target: target, Protocol: protocol }, statistic, period);
}

/** Days until the certificate expires; dimensions Target and Protocol. */
export function certificateDaysLeft(target: string, protocol: Protocol, period = Duration.hours(1)) {
  return metric("CertificateDaysLeft", { Target: target, Protocol: protocol }, "Minimum", period);
}
