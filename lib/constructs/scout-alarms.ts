import { Annotations, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { type CheckWindow, checkWindow } from "../monitoring/check-window.ts";
import {
  certificateDaysLeft,
  checkFailed,
  probeOutcome,
  roundTripTime,
} from "../monitoring/scout-metrics.ts";
import type { TargetWatch } from "../monitoring/target-watch.ts";

export interface ScoutAlarmsProps {
  readonly targets: readonly TargetWatch[];
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Queues whose messages mean something could not be processed: any message is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** How to look at and redrive a dead-letter queue's messages, by the same names; a generic hint otherwise. */
  readonly deadLetterAdvice?: Readonly<Record<string, string>>;
  readonly prober: lambda.IFunction;
  readonly scheduleMinutes: number;
  readonly topic: sns.ITopic;
  /** Every alarm's name starts with it: the alarm topic lets alarms so named publish (alarm-names.ts). */
  readonly alarmNamePrefix: string;
}

/**
 * Every alarm, each notifying the alarm topic. How each treats missing data is part of its meaning:
 * - metrics emitted only when something happens (lost probes, Lambda errors, a DLQ that holds
 *   nothing): no data means nothing happened, so NOT_BREACHING;
 * - CheckFailed is emitted by every check of every endpoint, pass or fail, so a period without it
 *   means nobody checked the target: BREACHING. The silence of the one target a prober stopped
 *   checking (a failed shard, a crashing check) alarms as its own, which no single "prober silent"
 *   alarm on an always-emitted metric would catch. A run that lands in the neighbouring period
 *   leaves a gap but no false alarm: CloudWatch fills missing points only when its evaluation range
 *   holds fewer real points than evaluationPeriods ("Configuring how CloudWatch alarms treat
 *   missing data");
 * - CertificateDaysLeft comes only with a TLS certificate: MISSING, and the check alarm above
 *   speaks for a silent prober;
 * - ProberNotRunning turns a schedule that stopped invoking the prober into an alarm of its own.
 */
export class ScoutAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ScoutAlarmsProps,
  ) {
    super(scope, id);
    for (const target of props.targets) this.addTargetAlarms(target);
    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Errors`, {
        alarmDescription: `The ${name} Lambda failed (errors or timeouts)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.add(`${name}Depth`, {
        alarmDescription: `${name} holds messages that could not be processed: ${
          props.deadLetterAdvice?.[name] ?? "inspect and redrive them"
        }`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: "Maximum",
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // SQS stops reporting a queue that has been idle for hours: an idle dead-letter queue is empty.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const window = Duration.minutes(Math.max(15, props.scheduleMinutes * 3));
    this.add("ProberNotRunning", {
      alarmDescription: `The prober was not invoked for ${window.toMinutes()} minutes: no checks and no probes`,
      metric: props.prober.metricInvocations({ period: window, statistic: "Sum" }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // Lambda publishes no Invocations datapoint for a function nobody invoked: silence is the failure.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  private addTargetAlarms(target: TargetWatch): void {
    // Target ids ([A-Za-z0-9._-]) are valid construct ids as they are, and unique.
    const slug = `Target-${target.id}-`;
    if (target.roundTripCriticalSeconds !== undefined) {
      this.add(`${slug}ProbesLostOrBounced`, {
        alarmDescription: `Target ${target.id}: probes were lost or bounced`,
        metric: new cloudwatch.MathExpression({
          expression: "FILL(lost, 0) + FILL(bounced, 0)",
          usingMetrics: {
            lost: probeOutcome("ProbeLost", target.id),
            bounced: probeOutcome("ProbeBounced", target.id),
          },
          label: "lost + bounced",
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.add(`${slug}RoundTripSlow`, {
        alarmDescription: `Target ${target.id}: round-trip time p95 above ${target.roundTripCriticalSeconds} s`,
        metric: roundTripTime(target.id, "p95", Duration.minutes(15)),
        threshold: target.roundTripCriticalSeconds * 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No RTT means no probe came back: that is the lost-probe alarm's to report, not this one's.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const protocol of target.protocols) {
      const window = checkWindow(this.props.scheduleMinutes * 60, target.confirmAfter);
      this.warnOfShortWindow(target.id, window);
      this.add(`${slug}${capitalise(protocol)}CheckFailed`, {
        alarmDescription: `Target ${target.id}: ${protocol} checks failed, or were not reported, in ${window.cycles} cycle(s) in a row (${window.periodSeconds} s each)`,
        metric: checkFailed(target.id, protocol, "Maximum", Duration.seconds(window.periodSeconds)),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        datapointsToAlarm: window.cycles,
        evaluationPeriods: window.cycles,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      const warningDays = target.certWarningDays[protocol];
      if (warningDays === undefined) continue;
      this.add(`${slug}${capitalise(protocol)}CertificateExpiring`, {
        alarmDescription: `Target ${target.id}: a ${protocol} certificate expires in less than ${warningDays} days`,
        metric: certificateDaysLeft(target.id, protocol),
        threshold: warningDays,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
    }
  }

  /** confirmAfter cycles that would not fit CloudWatch's longest evaluation window: fewer are asked. */
  private warnOfShortWindow(targetId: string, window: CheckWindow): void {
    if (window.cyclesCappedFrom === undefined) return;
    Annotations.of(this).addWarningV2(
      `email-scout:check-alarm-window-${targetId}`,
      `Target ${targetId}: confirmAfter ${window.cyclesCappedFrom} periods of ${window.periodSeconds} s exceed what a CloudWatch alarm may evaluate; its check alarms fire after ${window.cycles}`,
    );
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, "evaluationPeriods" | "alarmName"> & { evaluationPeriods?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      ...props,
      alarmName: `${this.props.alarmNamePrefix}${id}`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.props.topic));
    this.alarms.push(alarm);
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
