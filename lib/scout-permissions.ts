import * as iam from "aws-cdk-lib/aws-iam";

/**
 * The DynamoDB actions both functions need: conditional writes and reads of single items, and
 * queries on the indexes. No Scan, BatchWrite or Delete (grantReadWriteData would give all three);
 * the prober alone batch-writes, to the results table only (batchWriteResults).
 */
export const TABLE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:GetItem",
  "dynamodb:Query",
];

export function tableAccess(arnsWithIndexes: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "ProbeAndResultTables",
    actions: TABLE_ACTIONS,
    resources: arnsWithIndexes,
  });
}

/**
 * The prober stores a run's check results (history and latest items) in BatchWriteItem calls: on
 * the results table alone, whose indexes take no writes of their own.
 */
export function batchWriteResults(resultsTableArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "BatchWriteCheckResults",
    actions: ["dynamodb:BatchWriteItem"],
    resources: [resultsTableArn],
  });
}

/**
 * Listing under the returns prefix, which the correlator never does itself: S3 answers a GetObject
 * of a missing key with 404 NoSuchKey only to a caller that may list that key's prefix, and with
 * 403 AccessDenied to any other, so without it a message deleted before the correlator came
 * looks like a permission error and is retried into the dead-letter queue.
 */
export function listReturns(bucketArn: string, prefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "ListReturns",
    actions: ["s3:ListBucket"],
    resources: [bucketArn],
    conditions: { StringLike: { "s3:prefix": `${prefix}*` } },
  });
}

export function readSecret(sid: string, secretArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: ["secretsmanager:GetSecretValue"], resources: [secretArn] });
}

export function sendEvents(queueArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: "SendEvents", actions: ["sqs:SendMessage"], resources: [queueArn] });
}

/** The notifier moves what it cannot deliver to the events dead-letter queue, and nowhere else. */
export function moveToDeadLetters(deadLetterQueueArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "MoveUndeliverableEvents",
    actions: ["sqs:SendMessage"],
    resources: [deadLetterQueueArn],
  });
}

/**
 * SendRawEmail through the inbound domain's identity only, and only with the probe sender or a
 * bounces+<probeId> address as the sender.
 */
export function sendProbes(identityArn: string, from: string, domain: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "SendProbes",
    actions: ["ses:SendRawEmail"],
    resources: [identityArn],
    conditions: { StringLike: { "ses:FromAddress": [from, `bounces+*@${domain}`] } },
  });
}

/**
 * The endpoints' login passwords, named by ARN in the config. Secrets Manager appends six random
 * characters to a secret's ARN: `-??????` also matches an ARN written without them.
 */
export function readLoginPasswords(secretArns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "ReadLoginPasswords",
    actions: ["secretsmanager:GetSecretValue"],
    resources: secretArns.flatMap((arn) => [arn, `${arn}-??????`]),
  });
}
