import type { Stack } from "aws-cdk-lib";
import { Annotations, Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack } from "../../support/synth-stack.ts";

let template: Template;
let stack: Stack;
beforeAll(() => {
  ({ template, stack } = synthStack());
});

/** The variables all three functions get: runtime settings, metrics, and the events queue they feed or drain. */
const EVERY_FUNCTION_ENV = [
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
  "EVENTS_QUEUE_URL",
  "NODE_OPTIONS",
  "POWERTOOLS_METRICS_NAMESPACE",
  "POWERTOOLS_SERVICE_NAME",
];

describe("network", () => {
  it("spans two zones with public and private subnets and one NAT gateway per configured Elastic IP", () => {
    template.resourceCountIs("AWS::EC2::Subnet", 4);
    template.resourceCountIs("AWS::EC2::EIP", 2);
    template.resourceCountIs("AWS::EC2::NatGateway", 2);
    const eips = Object.keys(template.findResources("AWS::EC2::EIP"));
    const gateways = Object.values(template.findResources("AWS::EC2::NatGateway"));
    const allocations = gateways.map((gateway) => gateway.Properties.AllocationId["Fn::GetAtt"][0]).sort();
    expect(allocations).toEqual([...eips].sort());
    template.hasOutput("NatElasticIp1", { Value: { Ref: Match.stringLikeRegexp("NatElasticIp1") } });
    template.hasOutput("NatElasticIp2", { Value: { Ref: Match.stringLikeRegexp("NatElasticIp2") } });
  });

  it("keeps the Elastic IPs when the stack changes or goes, since customers allowlist them", () => {
    for (const eip of Object.values(template.findResources("AWS::EC2::EIP"))) {
      expect(eip.DeletionPolicy).toBe("Retain");
    }
  });

  it("logs all flows to CloudWatch Logs with a retention", () => {
    template.hasResourceProperties("AWS::EC2::FlowLog", {
      TrafficType: "ALL",
      LogDestinationType: "cloud-watch-logs",
    });
    template.resourceCountIs("AWS::Logs::LogGroup", 4);
    for (const group of Object.values(template.findResources("AWS::Logs::LogGroup"))) {
      expect(group.Properties.RetentionInDays).toBe(7);
    }
  });

  it("lets the prober out only on mail ports, the configured extra ports and HTTPS", () => {
    const groups = Object.values(template.findResources("AWS::EC2::SecurityGroup"));
    expect(groups).toHaveLength(1);
    const egress = groups[0]?.Properties.SecurityGroupEgress as {
      FromPort: number;
      ToPort: number;
      IpProtocol: string;
    }[];
    const ports = egress.map((rule) => {
      expect(rule.IpProtocol).toBe("tcp");
      expect(rule.ToPort).toBe(rule.FromPort);
      return rule.FromPort;
    });
    expect(ports.sort((a, b) => a - b)).toEqual([25, 110, 143, 443, 465, 587, 993, 995, 2587, 10995]);
    expect(groups[0]?.Properties.SecurityGroupIngress).toBeUndefined();
  });
});

describe("prober", () => {
  it("runs in the private subnets on a schedule rounded up to whole minutes", () => {
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(2 minutes)" });
    // A failed run is not repeated: it would send its probes twice.
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: Match.stringLikeRegexp("ProberFunction") },
      MaximumRetryAttempts: 0,
    });
    template.hasOutput("ProberScheduleRate", {
      Value: "rate(2 minutes)",
      Description: Match.stringLikeRegexp("90 rounded up"),
    });
    Annotations.fromStack(stack).hasWarning("/ScoutTest", Match.stringLikeRegexp("runs every 2 minute"));
    template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("prober"),
      Timeout: 300,
      VpcConfig: { SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp("PrivateSubnet1") }]) },
      DeadLetterConfig: {
        TargetArn: { "Fn::GetAtt": [Match.stringLikeRegexp("ProberAsyncDeadLetterQueue"), "Arn"] },
      },
    });
  });

  it("gets exactly the environment the handler reads, with ARNs rather than secrets", () => {
    const env = functionEnvironment(template, "prober");
    expect(Object.keys(env).sort()).toEqual(
      [
        ...EVERY_FUNCTION_ENV,
        "PROBES_TABLE",
        "PROBE_KEY_SECRET_ARN",
        "RESULTS_TABLE",
        "SES_CONFIGURATION_SET",
        "SES_FROM",
      ].sort(),
    );
    expect(env).toMatchObject({
      POWERTOOLS_SERVICE_NAME: "email-scout-prober",
      POWERTOOLS_METRICS_NAMESPACE: "EmailScout",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      NODE_OPTIONS: "--enable-source-maps",
      SES_FROM: "monitor@scout-returns.example.net",
      SES_CONFIGURATION_SET: { Ref: expect.stringMatching(/^ProbeSendingConfigurationSet/) },
      PROBE_KEY_SECRET_ARN: { Ref: expect.stringMatching(/ProbeKeySecret/) },
      PROBES_TABLE: { Ref: expect.stringMatching(/ProbesTable/) },
      RESULTS_TABLE: { Ref: expect.stringMatching(/ResultsTable/) },
      EVENTS_QUEUE_URL: { Ref: expect.stringMatching(/EventsQueueEvents/) },
    });
  });
});

describe("correlator and notifier", () => {
  it("run outside the VPC with their own environments", () => {
    const correlator = functionEnvironment(template, "correlator");
    expect(Object.keys(correlator).sort()).toEqual(
      [
        ...EVERY_FUNCTION_ENV,
        "PROBES_TABLE",
        "PROBE_KEY_SECRET_ARN",
        "RESULTS_TABLE",
        "RETURNS_BUCKET",
      ].sort(),
    );
    expect(correlator).toMatchObject({
      POWERTOOLS_SERVICE_NAME: "email-scout-correlator",
      RETURNS_BUCKET: { Ref: expect.stringMatching(/ReturnsBucket/) },
    });
    const notifier = functionEnvironment(template, "notifier");
    expect(Object.keys(notifier).sort()).toEqual(
      [...EVERY_FUNCTION_ENV, "EVENTS_DLQ_URL", "WEBHOOK_HOLDS_TABLE", "WEBHOOK_SECRET_ARN"].sort(),
    );
    expect(notifier).toMatchObject({
      POWERTOOLS_SERVICE_NAME: "email-scout-notifier",
      WEBHOOK_SECRET_ARN: { Ref: expect.stringMatching(/WebhookSecrets/) },
      // ChangeMessageVisibility of a retried message needs the queue's URL; undeliverable ones go to the DLQ.
      EVENTS_QUEUE_URL: { Ref: expect.stringMatching(/^EventsQueueEventsQueue/) },
      EVENTS_DLQ_URL: { Ref: expect.stringMatching(/^EventsQueueDeadLetters/) },
      // Failing endpoints and the events parked behind them.
      WEBHOOK_HOLDS_TABLE: { Ref: expect.stringMatching(/^TablesWebhookHoldsTable/) },
    });
    for (const name of ["correlator", "notifier"]) {
      expect(scoutFunction(template, name).Properties.VpcConfig).toBeUndefined();
    }
  });

  it("invokes the correlator for objects created under returns/ only", () => {
    template.hasResourceProperties("Custom::S3BucketNotifications", {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "returns/" }] } },
            LambdaFunctionArn: { "Fn::GetAtt": [Match.stringLikeRegexp("CorrelatorFunction"), "Arn"] },
          },
        ],
      },
    });
  });

  it("feeds the notifier from the events queue, reporting failed items one by one", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("EventsQueueEvents"), "Arn"] },
      FunctionName: { Ref: Match.stringLikeRegexp("NotifierFunction") },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 10,
    });
  });
});

describe("queues", () => {
  it("keeps undeliverable events in an encrypted dead-letter queue for 14 days", () => {
    const notifierTimeout = scoutFunction(template, "notifier").Properties.Timeout as number;
    template.hasResourceProperties("AWS::SQS::Queue", {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: Match.anyValue(),
      RedrivePolicy: {
        deadLetterTargetArn: { "Fn::GetAtt": [Match.stringLikeRegexp("EventsQueueDeadLetters"), "Arn"] },
        // SQS's maximum: the notifier moves events itself after webhooks.maxAgeSeconds; this is the backstop.
        maxReceiveCount: 1000,
      },
    });
    const events = Object.values(template.findResources("AWS::SQS::Queue")).find(
      (queue) => queue.Properties.RedrivePolicy,
    );
    expect(events?.Properties.VisibilityTimeout).toBeGreaterThan(notifierTimeout);
    // A day of retries (the default maxAgeSeconds) fits well within the receive limit.
    Annotations.fromStack(stack).hasNoWarning("/ScoutTest", Match.stringLikeRegexp("webhooks.maxAgeSeconds"));
    for (const queue of Object.values(template.findResources("AWS::SQS::Queue"))) {
      expect(queue.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
    }
  });

  it("gives the operator both ARNs a redrive of the events dead-letter queue needs", () => {
    template.hasOutput("EventsDeadLetterQueueArn", {
      Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^EventsQueueDeadLetters"), "Arn"] },
    });
    template.hasOutput("EventsQueueArn", {
      Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^EventsQueueEventsQueue"), "Arn"] },
    });
  });

  it("refuses plain-HTTP access to every queue", () => {
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
    }
  });
});

/** The Scout function whose description names `name` (prober, correlator, notifier). */
function scoutFunction(template: Template, name: string) {
  const matches = Object.values(template.findResources("AWS::Lambda::Function")).filter((fn) =>
    String(fn.Properties.Description ?? "").startsWith(`Email Scout ${name}`),
  );
  expect(matches).toHaveLength(1);
  return matches[0] as {
    Properties: Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } };
  };
}

function functionEnvironment(template: Template, name: string): Record<string, unknown> {
  return scoutFunction(template, name).Properties.Environment.Variables;
}
