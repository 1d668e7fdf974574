import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { queryExpression, targetPostureQuery } from "../monitoring/fleet-queries.ts";
import {
  certificateDaysLeft,
  checkDuration,
  checkFailed,
  probeOutcome,
  receiverVerdict,
  returnsRejectedByReason,
  roundTripTime,
} from "../monitoring/scout-metrics.ts";
import { fleetWatch, type TargetWatch, watchesOneByOne } from "../monitoring/target-watch.ts";
import { fleetRows } from "./fleet-dashboard.ts";

export interface ScoutDashboardProps {
  readonly dashboardName: string;
  readonly targets: readonly TargetWatch[];
  /** A row per target up to this many targets; beyond, the fleet's worst targets first (fleet-dashboard.ts). */
  readonly perTargetAlarmsUpTo: number;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly eventsDeadLetterQueue: sqs.IQueue;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * One row per target (round trip, check latency and failures, certificates), or the fleet's worst
 * targets first when they are too many, then the machinery. A target's row is 6 widgets and up to
 * 15 metrics (the posture's one query among them): at aws.perTargetAlarmsUpTo's maximum of 40
 * targets, 244 widgets and about 610 metrics, within CloudWatch's 500 widgets and 2,500 metrics a
 * dashboard.
 */
export class ScoutDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ScoutDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
    });
    if (watchesOneByOne(props.targets, props.perTargetAlarmsUpTo)) {
      for (const target of props.targets) this.dashboard.addWidgets(...targetRow(target));
    } else {
      for (const row of fleetRows(fleetWatch(props.targets), props.perTargetAlarmsUpTo)) {
        this.dashboard.addWidgets(...row);
      }
    }
    this.dashboard.addWidgets(...machineryRow(props));
  }
}

function targetRow(target: TargetWatch): cloudwatch.IWidget[] {
  const widgets: cloudwatch.IWidget[] = [];
  if (target.roundTripCriticalSeconds !== undefined) {
    widgets.push(
      new cloudwatch.GraphWidget({
        title: `${target.id}: round-trip time (ms)`,
        width: WIDTH,
        height: HEIGHT,
        left: [roundTripTime(target.id, "p50"), roundTripTime(target.id, "p95")],
        leftAnnotations: [{ value: target.roundTripCriticalSeconds * 1000, label: "critical" }],
      }),
      new cloudwatch.GraphWidget({
        title: `${target.id}: probes lost, late, bounced`,
        width: WIDTH,
        height: HEIGHT,
        left: (["ProbeLost", "ProbeLate", "ProbeBounced"] as const).map((name) =>
          probeOutcome(name, target.id),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: `${target.id}: receiver's verdicts (1: judged spam, DMARC failed, in junk)`,
        width: WIDTH,
        height: HEIGHT,
        left: (["ProbeJudgedSpam", "ProbeDmarcFailed", "ProbeInJunk"] as const).map((name) =>
          receiverVerdict(name, target.id),
        ),
        leftYAxis: { min: 0, max: 1 },
      }),
    );
  }
  if (target.protocols.length > 0) {
    widgets.push(
      new cloudwatch.GraphWidget({
        title: `${target.id}: check duration p95 (ms) and failures`,
        width: WIDTH,
        height: HEIGHT,
        left: target.protocols.map((protocol) => checkDuration(target.id, protocol)),
        right: target.protocols.map((protocol) => checkFailed(target.id, protocol)),
      }),
      new cloudwatch.SingleValueWidget({
        title: `${target.id}: certificate days left (min)`,
        width: WIDTH,
        height: HEIGHT,
        metrics: target.protocols.map((protocol) => certificateDaysLeft(target.id, protocol)),
      }),
    );
  }
  if (target.postureDomain !== undefined) {
    // One query, a series per posture check: the checks are whatever the prober runs.
    widgets.push(
      new cloudwatch.GraphWidget({
        title: `${target.id}: DNS posture of ${target.postureDomain} by check (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)`,
        width: WIDTH,
        height: HEIGHT,
        left: [
          queryExpression(targetPostureQuery("MAX", "PostureStatus", target.id, true), Duration.hours(1)),
        ],
        leftYAxis: { min: 0, max: 3 },
      }),
    );
  }
  return widgets;
}

function machineryRow(props: ScoutDashboardProps): cloudwatch.IWidget[] {
  const functions = Object.entries(props.functions);
  return [
    new cloudwatch.GraphWidget({
      title: "Lambda errors",
      width: WIDTH,
      height: HEIGHT,
      left: functions.map(([name, fn]) => fn.metricErrors({ label: name, statistic: "Sum" })),
    }),
    new cloudwatch.GraphWidget({
      title: "Lambda duration p95 (ms)",
      width: WIDTH,
      height: HEIGHT,
      left: functions.map(([name, fn]) => fn.metricDuration({ label: name, statistic: "p95" })),
    }),
    new cloudwatch.GraphWidget({
      title: "Returns rejected, by reason",
      width: WIDTH,
      height: HEIGHT,
      left: [returnsRejectedByReason()],
    }),
    new cloudwatch.GraphWidget({
      title: "Undelivered events (events DLQ depth)",
      width: WIDTH,
      height: HEIGHT,
      left: [props.eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum" })],
    }),
  ];
}
