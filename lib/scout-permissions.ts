import * as iam from "aws-cdk-lib/aws-iam";

/**
 * The only DynamoDB actions the functions need: conditional writes and reads of single items, and
 * queries on the indexes. No Scan, BatchWrite or Delete (grantReadWriteData would give all three).
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
