import type { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { METRICS_NAMESPACE } from "./scout-metrics.ts";

/**
 * CloudWatch Metrics Insights queries over the metrics the handlers emit, for fleets too large
 * to watch target by target. One query reads every target's series, whatever the number of
 * targets: the fleet alarms and the fleet dashboard stay the same size as the fleet grows.
 *
 * Limits (CloudWatch, "Metrics Insights quotas"): a query processes at most 10,000 metrics and
 * returns at most 500 series; Metrics Insights has no percentiles (MAX, MIN, SUM, AVG, COUNT).
 */

/** Which dimensions a metric carries: a SCHEMA() matches metrics with exactly these. */
const SCHEMAS = {
  check: `SCHEMA("${METRICS_NAMESPACE}", Protocol, Target)`,
  probe: `SCHEMA("${METRICS_NAMESPACE}", Target)`,
  posture: `SCHEMA("${METRICS_NAMESPACE}", Check, Target)`,
} as const;
const GROUPS = { check: "Target, Protocol", probe: "Target", posture: "Target, Check" } as const;

export type FleetFunction = "MAX" | "MIN" | "SUM" | "COUNT";

export interface FleetMetric {
  readonly fn: FleetFunction;
  readonly metricName:
    | "CheckFailed"
    | "CheckDuration"
    | "CertificateDaysLeft"
    | "RoundTripTime"
    | "ProbeLost"
    | "ProbeBounced"
    | "PostureFailed"
    | "PostureStatus";
}

const KIND: Record<FleetMetric["metricName"], keyof typeof SCHEMAS> = {
  CheckFailed: "check",
  CheckDuration: "check",
  CertificateDaysLeft: "check",
  RoundTripTime: "probe",
  ProbeLost: "probe",
  ProbeBounced: "probe",
  PostureFailed: "posture",
  PostureStatus: "posture",
};

/** One series over the whole fleet, e.g. SELECT MAX(CheckFailed) FROM SCHEMA("EmailScout", Protocol, Target). */
export function fleetQuery(metric: FleetMetric): string {
  return `SELECT ${metric.fn}(${metric.metricName}) FROM ${SCHEMAS[KIND[metric.metricName]]}`;
}

/**
 * One series per target (and protocol), worst first: the highest values, or the lowest for MIN
 * (certificate days left), at most `limit` of them.
 */
export function worstFirstQuery(metric: FleetMetric, limit = 10): string {
  const order = metric.fn === "MIN" ? "ASC" : "DESC";
  return `${fleetQuery(metric)} GROUP BY ${GROUPS[KIND[metric.metricName]]} ORDER BY ${metric.fn}() ${order} LIMIT ${limit}`;
}

/**
 * One target's posture series, whatever posture checks the prober runs (their names are not
 * known at synth): one series, or one per check with `byCheck`. Target ids are letters, digits
 * and . _ -, so they need no escaping inside the quotes.
 */
export function targetPostureQuery(
  fn: FleetFunction,
  metricName: "PostureFailed" | "PostureStatus",
  targetId: string,
  byCheck = false,
): string {
  const query = `SELECT ${fn}(${metricName}) FROM ${SCHEMAS.posture} WHERE Target = '${targetId}'`;
  return byCheck ? `${query} GROUP BY Check` : query;
}

/**
 * A query as something an alarm or a widget can use. Without a label CloudWatch names each series
 * of a GROUP BY by its dimension values (the target, the protocol); CDK would label them all with
 * the query's text.
 */
export function queryExpression(query: string, period: Duration, label = ""): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({ expression: query, usingMetrics: {}, period, label });
}
