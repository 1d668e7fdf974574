import { Annotations, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { fleetWatch, type TargetWatch, watchesOneByOne } from "../monitoring/target-watch.ts";
import type { AlarmSink, AlarmSpec } from "./alarm-sink.ts";
import { addFleetAlarms } from "./fleet-alarms.ts";
import { addTargetAlarms } from "./target-alarms.ts";

export interface ScoutAlarmsProps {
  readonly targets: readonly TargetWatch[];
  /** Each target gets its own alarms up to this many targets; beyond, the fleet is watched as a whole. */
  readonly perTargetAlarmsUpTo: number;
  /** The dashboard the fleet alarms point to for the names of the failing targets. */
  readonly dashboardName: string;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Queues whose messages mean something could not be processed: any message is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** How to look at and redrive a dead-letter queue's messages, by the same names; a generic hint otherwise. */
  readonly deadLetterAdvice?: Readonly<Record<string, string>>;
  readonly prober: lambda.IFunction;
  readonly scheduleMinutes: number;
  /** Prober invocations per scheduled run (aws.proberShards, or derived). */
  readonly proberShards: number;
  readonly topic: sns.ITopic;
  /** Every alarm's name starts with it: the alarm topic lets alarms so named publish (alarm-names.ts). */
  readonly alarmNamePrefix: string;
  /**
   * False while the prober's schedule is off (aws.scheduleEnabled): the alarms still change
   * state but notify no one, as without runs the check alarms and ProberNotRunning would only
   * say that the prober does not run.
   */
  readonly actionsEnabled: boolean;
}

/**
 * Every alarm, each notifying the alarm topic: the functions' errors, the dead-letter queues, a
 * prober that is not invoked, and the targets' alarms, each target its own up to
 * aws.perTargetAlarmsUpTo targets (target-alarms.ts), the fleet as a whole beyond (fleet-alarms.ts).
 * How each treats missing data is part of its meaning:
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
export class ScoutAlarms extends Construct implements AlarmSink {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ScoutAlarmsProps,
  ) {
    super(scope, id);
    if (watchesOneByOne(props.targets, props.perTargetAlarmsUpTo)) {
      for (const target of props.targets) addTargetAlarms(this, target, props.scheduleMinutes);
    } else {
      Annotations.of(this).addInfo(
        `${props.targets.length} targets, more than aws.perTargetAlarmsUpTo (${props.perTargetAlarmsUpTo}): fleet-level alarms and dashboard`,
      );
      addFleetAlarms(this, fleetWatch(props.targets), props);
    }
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

  add(id: string, props: AlarmSpec): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      ...props,
      alarmName: `${this.props.alarmNamePrefix}${id}`,
      actionsEnabled: this.props.actionsEnabled,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.props.topic));
    this.alarms.push(alarm);
  }

  warn(id: string, message: string): void {
    Annotations.of(this).addWarningV2(id, message);
  }
}
