import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack } from "../../support/synth-stack.ts";

interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: string }[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  DatapointsToAlarm?: number;
  EvaluationPeriods?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } };
  }[];
}

let template: Template;
let alarms: AlarmProperties[];
let dashboardBody: string;
beforeAll(() => {
  template = synthStack().template;
  alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
    (alarm) => alarm.Properties as AlarmProperties,
  );
  const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
  expect(dashboards).toHaveLength(1);
  dashboardBody = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
});

function customAlarm(metricName: string, dimensions: Record<string, string>): AlarmProperties {
  // CloudWatch treats dimensions as a set; CDK writes them sorted by name.
  const expected = Object.entries(dimensions)
    .map(([Name, Value]) => ({ Name, Value }))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  const found = alarms.filter(
    (alarm) =>
      alarm.Namespace === "EmailScout" &&
      alarm.MetricName === metricName &&
      JSON.stringify(alarm.Dimensions) === JSON.stringify(expected),
  );
  expect(found, `${metricName} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0] as AlarmProperties;
}

describe("alarms", () => {
  it("every alarm notifies the alarm topic", () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms)
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
  });

  it("round-trip p95 above the probe's criticalSeconds, in milliseconds", () => {
    const alarm = customAlarm("RoundTripTime", { Target: "mail.example.net" });
    expect(alarm).toMatchObject({
      ExtendedStatistic: "p95",
      Threshold: 90_000,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(
      alarms.some(
        (a) => a.Dimensions?.some((d) => d.Value === "pop-only") && a.MetricName === "RoundTripTime",
      ),
    ).toBe(false);
  });

  it("lost or bounced probes: one is enough", () => {
    const alarm = alarms.find((a) =>
      a.AlarmDescription.includes("mail.example.net: probes were lost or bounced"),
    );
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
    expect(alarm?.TreatMissingData).toBe("notBreaching");
    const stats = alarm?.Metrics?.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric) ?? [];
    expect(stats.map((m) => m?.MetricName).sort()).toEqual(["ProbeBounced", "ProbeLost"]);
    for (const metric of stats)
      expect(metric?.Dimensions).toEqual([{ Name: "Target", Value: "mail.example.net" }]);
  });

  it("failed checks and expiring certificates per target and protocol (the checks' protocol, not the kind)", () => {
    for (const [target, protocol] of [
      ["mail.example.net", "smtp"],
      ["mail.example.net", "imap"],
      ["pop-only", "pop3"],
    ] as const) {
      const failed = customAlarm("CheckFailed", { Target: target, Protocol: protocol });
      // The fixture's 90 s interval runs every 2 minutes on AWS; confirmAfter is 2 by default.
      expect(failed).toMatchObject({
        Statistic: "Maximum",
        Period: 120,
        Threshold: 1,
        DatapointsToAlarm: 2,
        EvaluationPeriods: 2,
        TreatMissingData: "breaching",
      });
      const cert = customAlarm("CertificateDaysLeft", { Target: target, Protocol: protocol });
      expect(cert).toMatchObject({ Statistic: "Minimum", ComparisonOperator: "LessThanThreshold" });
    }
    expect(alarms.filter((a) => a.MetricName === "CheckFailed")).toHaveLength(3);
    // Target default 30, one imaps endpoint 45; the pop-only target has the global default 21.
    expect(
      customAlarm("CertificateDaysLeft", { Target: "mail.example.net", Protocol: "smtp" }).Threshold,
    ).toBe(30);
    expect(
      customAlarm("CertificateDaysLeft", { Target: "mail.example.net", Protocol: "imap" }).Threshold,
    ).toBe(45);
    expect(customAlarm("CertificateDaysLeft", { Target: "pop-only", Protocol: "pop3" }).Threshold).toBe(21);
  });

  it("Lambda errors per function, dead-letter queue depth, and a prober that stopped running", () => {
    const errors = alarms.filter((a) => a.Namespace === "AWS/Lambda" && a.MetricName === "Errors");
    expect(errors).toHaveLength(3);
    const depth = alarms.filter((a) => a.MetricName === "ApproximateNumberOfMessagesVisible");
    expect(depth).toHaveLength(3);
    for (const alarm of depth)
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
    const queues = depth.map((a) => JSON.stringify(a.Dimensions)).sort();
    expect(queues.join()).toMatch(/EventsQueueDeadLetters.*/);
    expect(queues.join()).toMatch(/ProberAsyncDeadLetterQueue/);
    expect(queues.join()).toMatch(/CorrelatorAsyncDeadLetterQueue/);
    // The events DLQ's alarm says how to look at the undelivered events and redrive them.
    const events = depth.find((a) => JSON.stringify(a.Dimensions).includes("EventsQueueDeadLetters"));
    const description = JSON.stringify(events?.AlarmDescription);
    expect(description).toContain("webhook events the notifier could not deliver");
    expect(description).toContain("aws sqs receive-message --queue-url ");
    expect(description).toMatch(
      /aws sqs start-message-move-task --source-arn ",\{"Fn::GetAtt":\["EventsQueueDeadLetters\w+","Arn"\]\}," --destination-arn ",\{"Fn::GetAtt":\["EventsQueueEvents\w+","Arn"\]\}/,
    );
    const notRunning = alarms.find((a) => a.MetricName === "Invocations");
    expect(notRunning).toMatchObject({
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
  });
});

describe("alarm topic", () => {
  /** What the CloudWatch service principal must show: this account, and an alarm of this stack. */
  const FROM_OWN_ALARMS = {
    StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
    ArnLike: {
      "aws:SourceArn": {
        "Fn::Join": [
          "",
          [
            "arn:",
            { Ref: "AWS::Partition" },
            ":cloudwatch:",
            { Ref: "AWS::Region" },
            ":",
            { Ref: "AWS::AccountId" },
            ":alarm:ScoutTest-*",
          ],
        ],
      },
    },
  };
  const CLOUDWATCH = { Service: "cloudwatch.amazonaws.com" };

  function topicPolicyStatements(): Record<string, unknown>[] {
    const policies = Object.values(template.findResources("AWS::SNS::TopicPolicy"));
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.Topics).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
    return policies[0]?.Properties.PolicyDocument.Statement;
  }

  it("lets CloudWatch publish, for this account's alarms of this stack only", () => {
    const allows = topicPolicyStatements().filter((statement) => statement.Effect === "Allow");
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: CLOUDWATCH,
        Action: "sns:Publish",
        Resource: { Ref: expect.stringMatching(/^AlarmsTopic/) },
        Condition: FROM_OWN_ALARMS,
      }),
    ]);
  });

  it("still refuses publishes over plain HTTP", () => {
    expect(topicPolicyStatements()).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  it("is encrypted with a rotated key that CloudWatch may use under the same conditions", () => {
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^AlarmsKey"), "Arn"] },
    });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    const keys = Object.values(template.findResources("AWS::KMS::Key"));
    expect(keys).toHaveLength(1);
    const statements: Record<string, unknown>[] = keys[0]?.Properties.KeyPolicy.Statement ?? [];
    const forCloudWatch = statements.filter(
      (statement) => JSON.stringify(statement.Principal) === JSON.stringify(CLOUDWATCH),
    );
    expect(forCloudWatch).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Condition: FROM_OWN_ALARMS,
      }),
    ]);
  });

  it("names every alarm with the stack's prefix, so that condition covers each of them", () => {
    const names = alarms.map((alarm) => alarm.AlarmName);
    for (const name of names) expect(name).toMatch(/^ScoutTest-[A-Za-z0-9._-]+$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it("mails alarmEmail and is a stack output", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.net",
    });
    template.hasOutput("AlarmTopicArn", { Value: { Ref: Match.stringLikeRegexp("^AlarmsTopic") } });
  });
});

describe("dashboard", () => {
  it("graphs every metric of every target with the exact names and dimensions", () => {
    const expectations = [
      '["EmailScout","RoundTripTime","Target","mail.example.net",{"stat":"p50"}]',
      '["EmailScout","RoundTripTime","Target","mail.example.net",{"stat":"p95"}]',
      '["EmailScout","ProbeLost","Target","mail.example.net",{"stat":"Sum"}]',
      '["EmailScout","ProbeLate","Target","mail.example.net",{"stat":"Sum"}]',
      '["EmailScout","ProbeBounced","Target","mail.example.net",{"stat":"Sum"}]',
      '["EmailScout","ProbeJudgedSpam","Target","mail.example.net",{"stat":"Maximum"}]',
      '["EmailScout","ProbeDmarcFailed","Target","mail.example.net",{"stat":"Maximum"}]',
      '["EmailScout","ProbeInJunk","Target","mail.example.net",{"stat":"Maximum"}]',
      '["EmailScout","CheckDuration","Protocol","smtp","Target","mail.example.net",{"stat":"p95"}]',
      '["EmailScout","CheckDuration","Protocol","imap","Target","mail.example.net",{"stat":"p95"}]',
      '["EmailScout","CheckFailed","Protocol","pop3","Target","pop-only",{"stat":"Sum"',
      '["EmailScout","CertificateDaysLeft","Protocol","pop3","Target","pop-only",{"period":3600,"stat":"Minimum"}]',
      '"AWS/Lambda","Errors"',
      '"AWS/Lambda","Duration"',
      '"AWS/SQS","ApproximateNumberOfMessagesVisible"',
      "SEARCH('{EmailScout,Reason} MetricName=",
      "ReturnRejected",
    ];
    // The body is a Fn::Join of JSON fragments: unescape the quotes to read it as JSON text.
    const body = dashboardBody.replaceAll('\\"', '"');
    for (const fragment of expectations) expect(body).toContain(fragment);
    expect(body).not.toContain('"Target","pop-only",{"stat":"p50"}');
  });
});
