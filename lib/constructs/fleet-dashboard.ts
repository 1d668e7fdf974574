import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import {
  type FleetMetric,
  fleetQuery,
  queryExpression,
  worstFirstQuery,
} from "../monitoring/fleet-queries.ts";
import type { FleetWatch } from "../monitoring/target-watch.ts";

const WIDTH = 8;
const HEIGHT = 6;

/** How a table sums up each target's series over the dashboard's time range. */
const SUMMARY: Record<FleetMetric["fn"], cloudwatch.TableSummaryColumn> = {
  SUM: cloudwatch.TableSummaryColumn.SUM,
  COUNT: cloudwatch.TableSummaryColumn.SUM,
  MAX: cloudwatch.TableSummaryColumn.MAXIMUM,
  MIN: cloudwatch.TableSummaryColumn.MINIMUM,
};

/**
 * The fleet dashboard's rows: the worst targets first, one Metrics Insights query per table
 * (GROUP BY target, ORDER BY the value, LIMIT 10), so its size does not grow with the fleet.
 * CloudWatch allows 500 widgets a dashboard and 500 metrics a widget, 2,500 a dashboard
 * ("CloudWatch service quotas"); these rows hold 8 widgets and 8 queries for any number of
 * targets. The body itself has no documented size limit of its own but travels in the template,
 * which CloudFormation takes up to 1 MB from S3: with the machinery row it is about 4.6 KB.
 */
export function fleetRows(fleet: FleetWatch, perTargetAlarmsUpTo: number): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        width: 24,
        height: 2,
        markdown:
          `**${fleet.targets} targets**, more than \`aws.perTargetAlarmsUpTo\` (${perTargetAlarmsUpTo}): ` +
          "the alarms and this dashboard watch the fleet as a whole. Each table lists the worst targets " +
          "first, ten at most; run its query in Metrics Insights for more.",
      }),
    ],
    [
      worstFirst("Failed checks, most first", { fn: "SUM", metricName: "CheckFailed" }),
      worstFirst("Slowest checks (ms)", { fn: "MAX", metricName: "CheckDuration" }),
      worstFirst(
        "Certificates closest to expiry (days)",
        { fn: "MIN", metricName: "CertificateDaysLeft" },
        Duration.hours(1),
      ),
    ],
  ];
  if (fleet.probeTargets > 0) {
    rows.push([
      worstFirst("Probes lost, most first", { fn: "SUM", metricName: "ProbeLost" }),
      worstFirst("Probes bounced, most first", { fn: "SUM", metricName: "ProbeBounced" }),
      worstFirst("Slowest round trips (ms)", { fn: "MAX", metricName: "RoundTripTime" }),
    ]);
  }
  if (fleet.postureTargets > 0) {
    rows.push([
      worstFirst(
        "Posture checks failing (target, check), most first",
        { fn: "SUM", metricName: "PostureFailed" },
        Duration.hours(1),
      ),
      worstFirst(
        "Posture status (target, check): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        { fn: "MAX", metricName: "PostureStatus" },
        Duration.hours(1),
      ),
    ]);
  }
  rows.push([
    new cloudwatch.GraphWidget({
      title: "Checks across the fleet: failed, and reported (a drop: a prober stopped checking)",
      width: 2 * WIDTH,
      height: HEIGHT,
      left: [
        queryExpression(fleetQuery({ fn: "SUM", metricName: "CheckFailed" }), Duration.minutes(5), "failed"),
      ],
      right: [
        queryExpression(
          fleetQuery({ fn: "COUNT", metricName: "CheckFailed" }),
          Duration.minutes(5),
          "reported",
        ),
      ],
    }),
  ]);
  return rows;
}

function worstFirst(title: string, metric: FleetMetric, period = Duration.minutes(5)): cloudwatch.IWidget {
  return new cloudwatch.TableWidget({
    title,
    width: WIDTH,
    height: HEIGHT,
    metrics: [queryExpression(worstFirstQuery(metric), period)],
    summary: { columns: [SUMMARY[metric.fn]], hideNonSummaryColumns: true },
  });
}
