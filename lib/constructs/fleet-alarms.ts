import { Aws, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { checkWindow, METRICS_INSIGHTS_ALARM_WINDOW_SECONDS } from "../monitoring/check-window.ts";
import {
  type FleetMetric,
  fleetQuery,
  queryExpression,
  worstFirstQuery,
} from "../monitoring/fleet-queries.ts";
import type { FleetWatch } from "../monitoring/target-watch.ts";
import type { AlarmSink } from "./alarm-sink.ts";

export interface FleetAlarmsContext {
  readonly scheduleMinutes: number;
  /** Prober invocations per scheduled run (aws.proberShards): each reports its own targets' checks. */
  readonly proberShards: number;
  /** The fleet dashboard, where the failing targets are listed worst first. */
  readonly dashboardName: string;
}

/** A Metrics Insights query processes at most this many metrics (CloudWatch, "Metrics Insights quotas"). */
const METRICS_PER_QUERY = 10_000;

/**
 * The fleet's alarms, one Metrics Insights query each over every target's series: failed checks,
 * checks missing (a silent prober shard), expiring certificates, lost and bounced probes, slow
 * round trips. Six alarms for any number of targets. A query alarm is billed per metric it analyzes (CloudWatch pricing), so the fleet
 * costs about what per-target alarms would; what it saves is resources, quotas and noise.
 * An alarm on one aggregated series does not say which target fails: each description points at
 * the fleet dashboard, whose tables list the worst targets first, and gives the query that lists
 * them in the Metrics Insights console.
 */
export function addFleetAlarms(alarms: AlarmSink, fleet: FleetWatch, context: FleetAlarmsContext): void {
  const dashboardUrl = `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${context.dashboardName}`;
  const whichTargets = (metric: FleetMetric) =>
    `Which targets: dashboard ${context.dashboardName} (${dashboardUrl}), or Metrics Insights: ${worstFirstQuery(metric)}`;
  if (fleet.checkSeries > METRICS_PER_QUERY) {
    alarms.warn(
      "email-scout:fleet-query-limit",
      `${fleet.checkSeries} target and protocol pairs: a Metrics Insights query reads the first ${METRICS_PER_QUERY} metrics only, so the fleet alarms see part of the fleet; split it into stacks`,
    );
  }

  // The smallest confirmAfter of the fleet: no target confirms a failure before this alarm fires.
  // Missing data is breaching, as for a target's own check alarm: CheckFailed comes with every
  // check, so a fleet with no CheckFailed at all is a prober that stopped reporting.
  const window = checkWindow(
    context.scheduleMinutes * 60,
    fleet.confirmAfter,
    () => METRICS_INSIGHTS_ALARM_WINDOW_SECONDS,
  );
  if (window.cyclesCappedFrom !== undefined) {
    alarms.warn(
      "email-scout:fleet-check-alarm-window",
      `confirmAfter ${window.cyclesCappedFrom} periods of ${window.periodSeconds} s exceed the 3 hours a Metrics Insights alarm evaluates; the fleet check alarm fires after ${window.cycles}`,
    );
  }
  alarms.add("FleetChecksFailing", {
    alarmDescription: `Checks of some target failed, or no checks were reported, in ${window.cycles} cycle(s) in a row (${window.periodSeconds} s each). ${whichTargets({ fn: "SUM", metricName: "CheckFailed" })}`,
    metric: queryExpression(
      fleetQuery({ fn: "MAX", metricName: "CheckFailed" }),
      Duration.seconds(window.periodSeconds),
      "any check failed",
    ),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    datapointsToAlarm: window.cycles,
    evaluationPeriods: window.cycles,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });

  // FleetChecksFailing sees only a fleet that reports nothing at all; one shard that stops (its
  // invocation fails every run) leaves the others' series flowing. COUNT(CheckFailed) is the
  // number of checks a run reported (every check reports one datapoint): fewer than all but half
  // a shard's share, for confirmAfter runs in a row, is a shard (or a good part of the fleet)
  // that is not being checked.
  const expectedChecks = fleet.endpoints;
  const missingAllowed = Math.floor(expectedChecks / (2 * context.proberShards));
  alarms.add("FleetChecksMissing", {
    alarmDescription: `Fewer than ${expectedChecks - missingAllowed} of the fleet's ${expectedChecks} checks were reported in ${window.cycles} cycle(s) in a row: a prober shard (of ${context.proberShards}) or a part of the fleet is not being checked. See the prober's errors and logs (each run logs its shard), and the fleet dashboard's "checks reported" graph (${dashboardUrl}).`,
    metric: queryExpression(
      fleetQuery({ fn: "COUNT", metricName: "CheckFailed" }),
      Duration.seconds(window.periodSeconds),
      "checks reported",
    ),
    threshold: expectedChecks - missingAllowed,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    datapointsToAlarm: window.cycles,
    evaluationPeriods: window.cycles,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });

  // The largest warning of any target: no certificate is reported later than its own setting asks.
  if (fleet.certWarningDays !== undefined) {
    alarms.add("FleetCertificatesExpiring", {
      alarmDescription: `A certificate of some target expires in less than ${fleet.certWarningDays} days. ${whichTargets({ fn: "MIN", metricName: "CertificateDaysLeft" })}`,
      metric: queryExpression(
        fleetQuery({ fn: "MIN", metricName: "CertificateDaysLeft" }),
        Duration.hours(1),
        "fewest days left",
      ),
      threshold: fleet.certWarningDays,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
  }

  // Posture runs come once per posture.intervalSeconds: missing data keeps the alarm's state.
  if (fleet.postureTargets > 0) {
    alarms.add("FleetPostureFailing", {
      alarmDescription: `A DNS posture check (MX, SPF, DMARC, ...) of some target's domain is CRITICAL or UNKNOWN. ${whichTargets({ fn: "MAX", metricName: "PostureFailed" })}`,
      metric: queryExpression(
        fleetQuery({ fn: "MAX", metricName: "PostureFailed" }),
        Duration.hours(1),
        "any posture check failed",
      ),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
  }

  if (fleet.roundTripCriticalSeconds === undefined) return;
  for (const [name, what] of [
    ["ProbeLost", "lost"],
    ["ProbeBounced", "bounced"],
  ] as const) {
    alarms.add(`FleetProbes${what === "lost" ? "Lost" : "Bounced"}`, {
      alarmDescription: `Probes of some target were ${what}. ${whichTargets({ fn: "SUM", metricName: name })}`,
      metric: queryExpression(
        fleetQuery({ fn: "SUM", metricName: name }),
        Duration.minutes(5),
        `probes ${what}`,
      ),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  // Metrics Insights has no percentiles: the slowest return of 15 minutes, against the largest
  // critical time of any probe target, which pages no target within its own.
  if (fleet.probeTargetsWithLowerCritical > 0) {
    alarms.warn(
      "email-scout:fleet-round-trip-threshold",
      `${fleet.probeTargetsWithLowerCritical} probe target(s) have a critical round-trip time below ${fleet.roundTripCriticalSeconds} s, the one the fleet alarm uses; the fleet dashboard lists the slowest`,
    );
  }
  alarms.add("FleetRoundTripSlow", {
    alarmDescription: `A probe of some target took more than ${fleet.roundTripCriticalSeconds} s to come back. ${whichTargets({ fn: "MAX", metricName: "RoundTripTime" })}`,
    metric: queryExpression(
      fleetQuery({ fn: "MAX", metricName: "RoundTripTime" }),
      Duration.minutes(15),
      "slowest round trip",
    ),
    threshold: fleet.roundTripCriticalSeconds * 1000,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    // No RTT means no probe came back: that is the lost-probe alarm's to report, not this one's.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
