import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack } from "../../support/synth-stack.ts";

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
}

let template: Template;
beforeAll(() => {
  template = synthStack().template;
});

/** Every statement of every policy attached to the role of the function whose logical id starts with `name`. */
function statementsOf(name: string): Statement[] {
  const functions = template.findResources("AWS::Lambda::Function");
  const fnId = Object.keys(functions).find((id) => id.startsWith(`${name}Function`));
  const roleRef = functions[fnId ?? ""]?.Properties.Role["Fn::GetAtt"][0] as string;
  expect(roleRef).toMatch(new RegExp(`^${name}Role`));
  const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleRef),
  );
  const role = template.findResources("AWS::IAM::Role")[roleRef];
  expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** Action -> the resources it is allowed on, rendered as JSON strings so tokens compare exactly. */
function grants(statements: Statement[]): Record<string, string[]> {
  const byAction: Record<string, string[]> = {};
  for (const statement of statements) {
    expect(statement.Effect).toBe("Allow");
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const action of [statement.Action].flat()) {
      byAction[action] = [...(byAction[action] ?? []), ...resources.map((r) => JSON.stringify(r))].sort();
    }
  }
  return byAction;
}

const arn = (id: RegExp) =>
  expect.stringMatching(new RegExp(`^\\{"Fn::GetAtt":\\["${id.source}","Arn"\\]\\}$`));
const ref = (id: RegExp) => expect.stringMatching(new RegExp(`^\\{"Ref":"${id.source}"\\}$`));
const indexes = (id: RegExp) => expect.stringMatching(new RegExp(`${id.source}.*/index/\\*`));
const tableResources = [
  arn(/TablesProbesTable\w+/),
  arn(/TablesResultsTable\w+/),
  indexes(/TablesProbesTable/),
  indexes(/TablesResultsTable/),
].sort();
const tableGrants = (resources: unknown[]) =>
  Object.fromEntries(
    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"].map((a) => [
      a,
      resources,
    ]),
  );
const tracing = { "xray:PutTelemetryRecords": ['"*"'], "xray:PutTraceSegments": ['"*"'] };

describe("least privilege", () => {
  it("prober: its tables, SES for the identity, the probe key and login passwords, the events queue, its logs and DLQ", () => {
    const statements = statementsOf("Prober");
    const actual = grants(statements);
    expect(Object.keys(actual).sort()).toEqual(
      [
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:GetSecretValue",
        "ses:GetSendQuota",
        "ses:SendRawEmail",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ].sort(),
    );
    expect(actual).toMatchObject({
      // No resource-level permissions: read once per run to pace the sends.
      "ses:GetSendQuota": ['"*"'],
      ...tableGrants(tableResources.map(() => expect.any(String))),
      // Batch writes of check results: the results table itself, not its indexes nor the probes table.
      "dynamodb:BatchWriteItem": [arn(/TablesResultsTable\w+/)],
      "secretsmanager:GetSecretValue": [
        '"arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout/submission"',
        '"arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout/submission-??????"',
        ref(/SecretsProbeKeySecret\w+/),
      ],
      "sqs:SendMessage": [arn(/EventsQueueEventsQueue\w+/), arn(/ProberAsyncDeadLetterQueue\w+/)].sort(),
      "logs:PutLogEvents": [arn(/ProberLogs\w+/)],
      ...tracing,
    });
    expect(actual["dynamodb:Query"]).toEqual(expect.arrayContaining(tableResources));
    expect(actual["dynamodb:Query"]).toHaveLength(4);
    // SES authorizes a send against the sender's identity and the configuration set, both named.
    const send = statements.find((s) => s.Action === "ses:SendRawEmail");
    const resources = [send?.Resource].flat().map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(2);
    expect(resources).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/":identity\/",\{"Ref":"InboundMailIdentity\w+"\}/),
        expect.stringMatching(/":configuration-set\/",\{"Ref":"ProbeSendingConfigurationSet\w+"\}/),
      ]),
    );
    expect(send?.Condition).toEqual({
      StringLike: {
        "ses:FromAddress": ["monitor@scout-returns.example.net", "bounces+*@scout-returns.example.net"],
      },
    });
  });

  it("correlator: returns/* in the bucket, its tables, the probe key, the events queue, its logs and DLQ", () => {
    const statements = statementsOf("Correlator");
    const actual = grants(statements);
    expect(Object.keys(actual).sort()).toEqual(
      [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ].sort(),
    );
    expect(actual["s3:GetObject"]).toEqual([
      expect.stringMatching(/ReturnsBucket\w+","Arn"\]\},"\/returns\/\*"\]/),
    ]);
    // Listing lets S3 answer a missing return with NoSuchKey (the "missing" path) instead of
    // AccessDenied (retried into the DLQ); it is the bucket's ARN, and keys under returns/ only.
    const list = statements.filter((s) => [s.Action].flat().includes("s3:ListBucket"));
    expect(list).toEqual([
      {
        Sid: "ListReturns",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: { "Fn::GetAtt": [expect.stringMatching(/^ReturnsBucket\w+$/), "Arn"] },
        Condition: { StringLike: { "s3:prefix": "returns/*" } },
      },
    ]);
    expect(actual["dynamodb:UpdateItem"]).toEqual(expect.arrayContaining(tableResources));
    expect(actual).toMatchObject({
      "secretsmanager:GetSecretValue": [ref(/SecretsProbeKeySecret\w+/)],
      "sqs:SendMessage": [arn(/CorrelatorAsyncDeadLetterQueue\w+/), arn(/EventsQueueEventsQueue\w+/)].sort(),
    });
  });

  it("notifier: consumes the events queue, moves to its dead-letter queue, reads the webhook secrets, holds endpoints in its own table, nothing else", () => {
    const actual = grants(statementsOf("Notifier"));
    const holds = [arn(/TablesWebhookHoldsTable\w+/)];
    expect(actual).toEqual({
      // The webhook holds table alone, no index, no Scan, no batch writes.
      ...tableGrants(holds),
      "dynamodb:DeleteItem": holds,
      "logs:CreateLogStream": [arn(/NotifierLogs\w+/)],
      "logs:PutLogEvents": [arn(/NotifierLogs\w+/)],
      "secretsmanager:GetSecretValue": [ref(/SecretsWebhookSecrets\w+/)],
      // The dead-letter queue, and the events queue for released events put back on it.
      "sqs:SendMessage": [arn(/EventsQueueDeadLetters\w+/), arn(/EventsQueueEventsQueue\w+/)].sort(),
      "sqs:ChangeMessageVisibility": [arn(/EventsQueueEventsQueue\w+/)],
      "sqs:DeleteMessage": [arn(/EventsQueueEventsQueue\w+/)],
      "sqs:GetQueueAttributes": [arn(/EventsQueueEventsQueue\w+/)],
      "sqs:GetQueueUrl": [arn(/EventsQueueEventsQueue\w+/)],
      "sqs:ReceiveMessage": [arn(/EventsQueueEventsQueue\w+/)],
      ...tracing,
    });
  });
});
