import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { checkWindow } from "../monitoring/check-window.ts";
import { queryExpression, targetPostureQuery } from "../monitoring/fleet-queries.ts";
import {
  certificateDaysLeft,
  checkFailed,
  probeOutcome,
  roundTripTime,
} from "../monitoring/scout-metrics.ts";
import type { TargetWatch } from "../monitoring/target-watch.ts";
import type { AlarmSink } from "./alarm-sink.ts";

/**
 * One target's alarms: lost or bounced probes and a slow round trip (probe targets), failed checks
 * and expiring certificates per protocol, and a failing posture (targets with a domain). At most
 * 2 + 2 x 3 + 1 = 9 (PER_TARGET_ALARMS in the schema).
 */
export function addTargetAlarms(alarms: AlarmSink, target: TargetWatch, scheduleMinutes: number): void {
  // Target ids ([A-Za-z0-9._-]) are valid construct ids as they are, and unique.
  const slug = `Target-${target.id}-`;
  if (target.roundTripCriticalSeconds !== undefined) {
    alarms.add(`${slug}ProbesLostOrBounced`, {
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
    alarms.add(`${slug}RoundTripSlow`, {
      alarmDescription: `Target ${target.id}: round-trip time p95 above ${target.roundTripCriticalSeconds} s`,
      metric: roundTripTime(target.id, "p95", Duration.minutes(15)),
      threshold: target.roundTripCriticalSeconds * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No RTT means no probe came back: that is the lost-probe alarm's to report, not this one's.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  if (target.postureDomain !== undefined) addPostureAlarm(alarms, slug, target.id, target.postureDomain);
  const window = checkWindow(scheduleMinutes * 60, target.confirmAfter);
  if (window.cyclesCappedFrom !== undefined) {
    alarms.warn(
      `email-scout:check-alarm-window-${target.id}`,
      `Target ${target.id}: confirmAfter ${window.cyclesCappedFrom} periods of ${window.periodSeconds} s exceed what a CloudWatch alarm may evaluate; its check alarms fire after ${window.cycles}`,
    );
  }
  for (const protocol of target.protocols) {
    alarms.add(`${slug}${capitalise(protocol)}CheckFailed`, {
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
    alarms.add(`${slug}${capitalise(protocol)}CertificateExpiring`, {
      alarmDescription: `Target ${target.id}: a ${protocol} certificate expires in less than ${warningDays} days`,
      metric: certificateDaysLeft(target.id, protocol),
      threshold: warningDays,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
  }
}

/**
 * Any posture check of the target's domain CRITICAL or UNKNOWN (PostureFailed, by Target and
 * Check), one Metrics Insights query over whatever checks the prober runs. A posture run comes
 * once per posture.intervalSeconds (hourly by default), so most periods have no data: missing
 * data keeps the alarm's state, and only the next run's result moves it. Flap control is the
 * prober's: a status.changed event follows confirmAfter runs; this alarm says what the last said.
 */
function addPostureAlarm(alarms: AlarmSink, slug: string, targetId: string, domain: string): void {
  alarms.add(`${slug}PostureFailed`, {
    alarmDescription: `Target ${targetId}: a DNS posture check of ${domain} (MX, SPF, DMARC, ...) is CRITICAL or UNKNOWN. Which: email-scout posture ${domain}, or Metrics Insights: ${targetPostureQuery("MAX", "PostureFailed", targetId, true)}`,
    metric: queryExpression(
      targetPostureQuery("MAX", "PostureFailed", targetId),
      Duration.hours(1),
      "posture failed",
    ),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
  });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
