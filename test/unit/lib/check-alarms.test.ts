import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { checkWindow, METRICS_INSIGHTS_ALARM_WINDOW_SECONDS } from "../../../lib/monitoring/check-window.ts";
import { type AlarmRule, checkCycles, firstAlarmingPeriod } from "../../support/alarm-evaluation.ts";
import { synthStack } from "../../support/synth-stack.ts";

/**
 * A deploy config with one endpoint per protocol on one target (confirmAfter 2), and a target
 * with two SMTP endpoints that confirms after 3, checked every `intervalSeconds`.
 */
function scheduleFixture(intervalSeconds: number): string {
  const config = {
    schedule: { intervalSeconds },
    inbound: { domain: "scout-returns.example.net", returnAddress: "returns@scout-returns.example.net" },
    outbound: { from: "monitor@scout-returns.example.net" },
    targets: [
      {
        id: "mx.example.net",
        endpoints: [
          { url: "smtp://mx.example.net" },
          { url: "imaps://mx.example.net" },
          { url: "pop3s://mx.example.net" },
        ],
      },
      {
        id: "two-smtp",
        confirmAfter: 3,
        endpoints: [{ url: "smtp://a.example.org" }, { url: "smtps://b.example.org" }],
      },
    ],
    aws: { stackName: "ScheduleTest" },
  };
  const file = join(mkdtempSync(join(tmpdir(), "scout-schedule-")), "config.yaml");
  writeFileSync(file, stringify(config));
  return file;
}

interface CheckAlarm extends AlarmRule {
  AlarmName: string;
  Dimensions: { Name: string; Value: string }[];
}

function checkAlarms(template: Template): Record<string, CheckAlarm> {
  const found = Object.values(template.findResources("AWS::CloudWatch::Alarm"))
    .map((resource) => resource.Properties as CheckAlarm & { MetricName?: string })
    .filter((alarm) => alarm.MetricName === "CheckFailed");
  return Object.fromEntries(
    found.map((alarm) => {
      const dimension = (name: string) => alarm.Dimensions.find((d) => d.Name === name)?.Value;
      return [`${dimension("Target")} ${dimension("Protocol")}`, alarm];
    }),
  );
}

describe("check alarm window", () => {
  it.each([
    [60, 60],
    [300, 300],
    [900, 900],
    [5, 10],
    [25, 30],
    [90, 120],
    [200_000, 86_400],
  ])("a %i s interval is a %i s period (10, 30 or whole minutes, at most a day)", (interval, period) => {
    expect(checkWindow(interval, 2).periodSeconds).toBe(period);
    expect(checkWindow(interval, 2).periodRoundedFrom).toBe(period === interval ? undefined : interval);
  });

  it("asks confirmAfter periods unless they exceed the alarm's longest window", () => {
    expect(checkWindow(900, 20)).toEqual({ periodSeconds: 900, cycles: 20 });
    // A metric alarm with periods under an hour evaluates at most a day.
    expect(checkWindow(7200, 20)).toEqual({ periodSeconds: 7200, cycles: 20 });
    expect(checkWindow(3540, 20).cycles).toBe(20);
    expect(checkWindow(86_400, 20)).toMatchObject({ cycles: 7, cyclesCappedFrom: 20 });
    // Metrics Insights alarms see the latest 3 hours only.
    const insights = () => METRICS_INSIGHTS_ALARM_WINDOW_SECONDS;
    expect(checkWindow(900, 20, insights)).toEqual({ periodSeconds: 900, cycles: 12, cyclesCappedFrom: 20 });
    expect(checkWindow(60, 20, insights)).toEqual({ periodSeconds: 60, cycles: 20 });
  });
});

describe.each([
  [1, 60],
  [5, 300],
  [15, 900],
])("check alarms on a %i-minute schedule", (_minutes, intervalSeconds) => {
  let alarms: Record<string, CheckAlarm>;
  beforeAll(() => {
    alarms = checkAlarms(synthStack(scheduleFixture(intervalSeconds)).template);
  });

  it("one per target and protocol, period = the interval, Maximum, confirmAfter of confirmAfter", () => {
    expect(Object.keys(alarms).sort()).toEqual([
      "mx.example.net imap",
      "mx.example.net pop3",
      "mx.example.net smtp",
      "two-smtp smtp",
    ]);
    for (const [subject, alarm] of Object.entries(alarms)) {
      const confirmAfter = subject.startsWith("two-smtp") ? 3 : 2;
      expect(alarm).toMatchObject({
        Period: intervalSeconds,
        Statistic: "Maximum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        DatapointsToAlarm: confirmAfter,
        EvaluationPeriods: confirmAfter,
        TreatMissingData: "breaching",
      });
    }
  });

  it("fire on the confirmAfter-th failed cycle of one endpoint, not before", () => {
    for (const [subject, alarm] of Object.entries(alarms)) {
      const confirmAfter = alarm.DatapointsToAlarm ?? 0;
      const endpoints = subject.startsWith("two-smtp") ? 2 : 1;
      // The last endpoint starts failing in cycle 5; the others keep passing.
      const failing = checkCycles({
        intervalSeconds,
        cycles: 12,
        endpoints,
        failing: (cycle, endpoint) => cycle >= 5 && endpoint === endpoints - 1,
      });
      expect(firstAlarmingPeriod(alarm, failing, 12), subject).toBe(5 + confirmAfter - 1);
      // One failure alone (flap control would not confirm it either) never fires.
      const once = checkCycles({ intervalSeconds, cycles: 12, endpoints, failing: (cycle) => cycle === 5 });
      expect(firstAlarmingPeriod(alarm, once, 12), subject).toBeUndefined();
    }
  });

  it("fire when the prober stops reporting (missing data), within confirmAfter cycles", () => {
    for (const [subject, alarm] of Object.entries(alarms)) {
      const confirmAfter = alarm.DatapointsToAlarm ?? 0;
      const silent = checkCycles({
        intervalSeconds,
        cycles: 12,
        endpoints: 1,
        failing: () => false,
        runs: (cycle) => cycle < 5,
      });
      expect(firstAlarmingPeriod(alarm, silent, 12), subject).toBe(5 + confirmAfter - 1);
      const healthy = checkCycles({ intervalSeconds, cycles: 12, endpoints: 1, failing: () => false });
      expect(firstAlarmingPeriod(alarm, healthy, 12), subject).toBeUndefined();
    }
  });

  it("say what they count in their descriptions", () => {
    const alarm = alarms["mx.example.net smtp"] as CheckAlarm & { AlarmDescription: string };
    expect(alarm.AlarmDescription).toBe(
      `Target mx.example.net: smtp checks failed, or were not reported, in 2 cycle(s) in a row (${intervalSeconds} s each)`,
    );
  });
});

describe("the check alarm this replaces", () => {
  it("could never fire on a 5-minute schedule: a Sum over 300 s >= 2 of one endpoint's single sample", () => {
    const before: AlarmRule = {
      Period: 300,
      Statistic: "Sum",
      Threshold: 2,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "missing",
    };
    const failing = checkCycles({ intervalSeconds: 300, cycles: 12, endpoints: 1, failing: () => true });
    expect(firstAlarmingPeriod(before, failing, 12)).toBeUndefined();
  });
});
