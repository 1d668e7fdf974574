import { CfnOutput, type Stack } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sqs from "aws-cdk-lib/aws-sqs";

export interface OperatorOutputsProps {
  readonly probeKeySecret: secretsmanager.ISecret;
  readonly webhookSecrets: secretsmanager.ISecret;
  readonly returnsBucket: s3.IBucket;
  readonly prober: lambda.IFunction;
  readonly probesTable: dynamodb.ITable;
  readonly webhookHoldsTable: dynamodb.ITable;
  readonly correlator: lambda.IFunction;
  readonly notifier: lambda.IFunction;
  readonly eventsQueue: sqs.IQueue;
  readonly eventsDeadLetterQueue: sqs.IQueue;
}

/**
 * The outputs an operator uses after a deploy (docs/aws.md, "After the first deploy" and "Smoke
 * test"), on the stack itself so their names stay what the guide and `--outputs-file` show.
 */
export function addOperatorOutputs(stack: Stack, props: OperatorOutputsProps): void {
  new CfnOutput(stack, "ProbeKeySecretArn", {
    value: props.probeKeySecret.secretArn,
    description:
      "The global probe key ring (probe targets without probe.keyFile): set to the text of an `email-scout key new` file (docs/aws.md)",
  });
  new CfnOutput(stack, "WebhookSecretsArn", {
    value: props.webhookSecrets.secretArn,
    description: 'Set to {"<webhook endpoint id>": "whsec_..."} (docs/aws.md)',
  });
  new CfnOutput(stack, "ReturnsBucketName", {
    value: props.returnsBucket.bucketName,
    description: "Returned probes and bounces, as SES stored them, under returns/",
  });
  // What a smoke test needs (docs/aws.md, "Smoke test"): the prober to invoke once, the probes
  // it wrote, and the logs of the correlator and the notifier.
  new CfnOutput(stack, "ProberFunctionName", {
    value: props.prober.functionName,
    description: "The prober Lambda: aws lambda invoke it with a Scheduled Event for one run of every target",
  });
  new CfnOutput(stack, "ProbesTableName", {
    value: props.probesTable.tableName,
    description: "The probes, one item each (probeId); index byTarget (targetId, sentAtMs)",
  });
  new CfnOutput(stack, "CorrelatorFunctionName", {
    value: props.correlator.functionName,
    description:
      "The correlator Lambda, which matches returns to probes: its logs say why a return was rejected",
  });
  new CfnOutput(stack, "NotifierFunctionName", {
    value: props.notifier.functionName,
    description: "The notifier Lambda, which posts the webhooks: its logs say what each endpoint answered",
  });
  new CfnOutput(stack, "EventsDeadLetterQueueUrl", {
    value: props.eventsDeadLetterQueue.queueUrl,
    description: "Events the notifier could not deliver: inspect, then redrive to the events queue",
  });
  new CfnOutput(stack, "EventsDeadLetterQueueArn", {
    value: props.eventsDeadLetterQueue.queueArn,
    description: "The --source-arn of a redrive (aws sqs start-message-move-task; docs/webhooks.md)",
  });
  new CfnOutput(stack, "WebhookHoldsTableName", {
    value: props.webhookHoldsTable.tableName,
    description:
      "Failing webhook endpoints (sk hold) and the events parked behind them, by endpointId (docs/webhooks.md)",
  });
  new CfnOutput(stack, "EventsQueueArn", {
    value: props.eventsQueue.queueArn,
    description: "The --destination-arn of a redrive of the events dead-letter queue",
  });
}
