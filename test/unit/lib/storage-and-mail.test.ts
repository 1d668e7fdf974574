import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import {
  PROBES_TABLE_DESIGN,
  RESULTS_TABLE_DESIGN,
  TTL_ATTRIBUTE,
  WEBHOOK_HOLDS_TABLE_DESIGN,
} from "../../../lambdas/aws/table-design.ts";
import { synthStack } from "../../support/synth-stack.ts";

let template: Template;
beforeAll(() => {
  template = synthStack().template;
});

describe("DynamoDB", () => {
  const common = {
    BillingMode: "PAY_PER_REQUEST",
    TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
  };

  it("keys probes as the adapters expect (probeId; byTarget, openByDeadline and unannouncedByTime indexes)", () => {
    template.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        ...common,
        KeySchema: PROBES_TABLE_DESIGN.KeySchema,
        GlobalSecondaryIndexes: PROBES_TABLE_DESIGN.GlobalSecondaryIndexes,
        AttributeDefinitions: Match.arrayWith([...PROBES_TABLE_DESIGN.AttributeDefinitions]),
      }),
    });
  });

  it("lists unannounced outcomes oldest first from a sparse index that holds whole items", () => {
    const probes = Object.values(template.findResources("AWS::DynamoDB::GlobalTable")).find(
      (table) => table.Properties.KeySchema[0].AttributeName === "probeId",
    );
    expect(probes?.Properties.GlobalSecondaryIndexes).toContainEqual({
      IndexName: "unannouncedByTime",
      KeySchema: [
        { AttributeName: "unannounced", KeyType: "HASH" },
        { AttributeName: "updatedAtMs", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    });
    expect(probes?.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: "unannounced", AttributeType: "S" },
        { AttributeName: "updatedAtMs", AttributeType: "N" },
      ]),
    );
  });

  it("keys results by pk and sk as the adapters expect", () => {
    template.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        ...common,
        KeySchema: RESULTS_TABLE_DESIGN.KeySchema,
      }),
    });
  });

  it("keeps the notifier's webhook holds in a table of their own, keyed as the adapter expects, never expired by TTL", () => {
    const holds = Object.values(template.findResources("AWS::DynamoDB::GlobalTable")).filter(
      (table) => table.Properties.KeySchema[0].AttributeName === "endpointId",
    );
    expect(holds).toHaveLength(1);
    const [table] = holds;
    expect(table?.DeletionPolicy).toBe("Retain");
    expect(table?.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: WEBHOOK_HOLDS_TABLE_DESIGN.KeySchema,
      AttributeDefinitions: WEBHOOK_HOLDS_TABLE_DESIGN.AttributeDefinitions,
      Replicas: [
        expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
    // A parked event leaves only delivered, dead-lettered or queued again: TTL would drop it unseen.
    expect(table?.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(table?.Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it("encrypts every table with the AWS-managed key", () => {
    for (const table of Object.values(template.findResources("AWS::DynamoDB::GlobalTable"))) {
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: "KMS" });
    }
  });
});

describe("returns bucket", () => {
  it("is encrypted, private, expires returns after retentionDays and logs access to the log bucket", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 14, Status: "Enabled" })] },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp("ReturnsAccessLogs") } },
    });
  });

  it("has a log bucket that is itself encrypted, private and expiring", () => {
    const logBucket = Object.entries(template.findResources("AWS::S3::Bucket")).find(([id]) =>
      id.includes("AccessLogs"),
    )?.[1];
    expect(logBucket?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
    });
  });

  it("refuses plain HTTP on both buckets", () => {
    const policies = Object.values(template.findResources("AWS::S3::BucketPolicy"));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
    }
  });

  it("lets SES put objects under returns/ only, for this account's rule", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: Match.stringLikeRegexp("ReturnsBucket") },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: "AllowSesToStoreReturns",
            Effect: "Allow",
            Principal: { Service: "ses.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: {
              "Fn::Join": [
                "",
                [{ "Fn::GetAtt": [Match.stringLikeRegexp("ReturnsBucket"), "Arn"] }, "/returns/*"],
              ],
            },
            Condition: {
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnLike: {
                "aws:SourceArn": {
                  "Fn::Join": [
                    "",
                    Match.arrayWith([":receipt-rule-set/ScoutTest-returns:receipt-rule/store-returns"]),
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });
});

describe("SES", () => {
  it("verifies the inbound domain as an identity with DKIM", () => {
    template.hasResourceProperties("AWS::SES::EmailIdentity", {
      EmailIdentity: "scout-returns.example.net",
      DkimAttributes: { SigningEnabled: true },
    });
  });

  it("stores every message for the inbound domain under returns/, TLS required, scanned", () => {
    template.hasResourceProperties("AWS::SES::ReceiptRuleSet", { RuleSetName: "ScoutTest-returns" });
    template.hasResource("AWS::SES::ReceiptRule", {
      Properties: {
        RuleSetName: { Ref: Match.stringLikeRegexp("RuleSet") },
        Rule: {
          Name: "store-returns",
          Enabled: true,
          Recipients: ["scout-returns.example.net"],
          TlsPolicy: "Require",
          ScanEnabled: true,
          Actions: [
            {
              S3Action: {
                BucketName: { Ref: Match.stringLikeRegexp("ReturnsBucket") },
                ObjectKeyPrefix: "returns/",
              },
            },
          ],
        },
      },
      // SES checks its write access when the rule is created: the bucket policy must exist first.
      DependsOn: Match.arrayWith([Match.stringLikeRegexp("ReturnsBucketPolicy")]),
    });
  });

  it("tells the operator what to publish and activate", () => {
    template.hasOutput("ReceiptRuleSetName", { Value: { Ref: Match.stringLikeRegexp("RuleSet") } });
    template.hasOutput("ActivateReceiptRuleSetCommand", {
      Value: {
        "Fn::Join": [
          "",
          [
            "aws ses set-active-receipt-rule-set --region ",
            { Ref: "AWS::Region" },
            " --rule-set-name ScoutTest-returns",
          ],
        ],
      },
    });
    template.hasOutput("MxRecord", {
      Value: { "Fn::Join": ["", ["10 inbound-smtp.", { Ref: "AWS::Region" }, ".amazonaws.com"]] },
    });
    for (const index of [1, 2, 3]) template.hasOutput(`DkimRecord${index}`, {});
  });
});

describe("secrets", () => {
  it("creates the probe key and webhook secrets with generated placeholders, never literal values", () => {
    const secrets = Object.values(template.findResources("AWS::SecretsManager::Secret"));
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) {
      expect(secret.Properties.GenerateSecretString).toBeDefined();
      expect(secret.Properties.SecretString).toBeUndefined();
    }
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: { SecretStringTemplate: "{}", GenerateStringKey: "replace-me" },
    });
    template.hasOutput("ProbeKeySecretArn", { Value: { Ref: Match.stringLikeRegexp("ProbeKeySecret") } });
    template.hasOutput("WebhookSecretsArn", { Value: { Ref: Match.stringLikeRegexp("WebhookSecrets") } });
  });
});
