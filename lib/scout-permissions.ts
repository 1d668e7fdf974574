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

/**
 * The notifier holds failing endpoints and parks their events in its own table: conditional
 * writes, single reads, queries of one endpoint's items, and deletes (a released or expired
 * event, a cleared hold). No Scan, no batch writes, no other table.
 */
export function holdWebhookEndpoints(holdsTableArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "WebhookHolds",
    actions: [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:GetItem",
      "dynamodb:Query",
      "dynamodb:DeleteItem",
    ],
    resources: [holdsTableArn],
  });
}

/** The released events the notifier has no time to post go back on the events queue. */
export function requeueEvents(queueArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "RequeueEvents",
    actions: ["sqs:SendMessage"],
    resources: [queueArn],
  });
}

/** The notifier moves what it cannot deliver to the events dead-letter queue, and nowhere else. */
export function moveToDeadLetters(deadLetterQueueArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "MoveUndeliverableEvents",
    actions: ["sqs:SendMessage"],
    resources: [deadLetterQueueArn],
  });
}

/** Where SendRawEmail may send probes: every resource SES authorizes a send against. */
export interface ProbeSendResources {
  /** The inbound domain's identity: the From and envelope sender are at it. */
  readonly identityArn: string;
  readonly configurationSetArn: string;
  /** In the SES sandbox only: the identities of the probe addresses (each address and its domain). */
  readonly recipientIdentityArns?: readonly string[];
}

/**
 * SendRawEmail is authorized against every resource a send involves (Service Authorization
 * Reference, Amazon SES: SendRawEmail takes the identity and configuration-set resource types):
 * the sender's identity, the configuration set and, in the sandbox, each recipient's identity.
 * Only with the probe sender or a bounces+<probeId> address as the sender.
 */
export function sendProbes(resources: ProbeSendResources, from: string, domain: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "SendProbes",
    actions: ["ses:SendRawEmail"],
    resources: [
      resources.identityArn,
      resources.configurationSetArn,
      ...(resources.recipientIdentityArns ?? []),
    ],
    conditions: { StringLike: { "ses:FromAddress": [from, `bounces+*@${domain}`] } },
  });
}

/** The account's sending quota, read at the start of each run to pace the probes. */
export function readSendQuota(): iam.PolicyStatement {
  // ses:GetSendQuota has no resource-level permissions.
  return new iam.PolicyStatement({ sid: "ReadSendQuota", actions: ["ses:GetSendQuota"], resources: ["*"] });
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

/**
 * The probe key rings the prober signs with and the correlator checks with: each probe target's
 * own secret (probe.keyFile) and, when some probe target has none, the stack's global one. No
 * other secret: a function that reads one target's ring cannot read another's unless it is named.
 */
export function readProbeKeys(secretArns: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "ReadProbeKeys",
    actions: ["secretsmanager:GetSecretValue"],
    resources: [...secretArns],
  });
}
