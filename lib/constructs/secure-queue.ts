import { Duration, Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface SecureQueueProps {
  readonly visibilityTimeout?: Duration;
  /** Set for a queue that is itself a dead-letter queue: says whose, for the cdk-nag acknowledgement. */
  readonly deadLetterRole?: string;
  readonly deadLetterQueue?: sqs.DeadLetterQueue;
}

/**
 * An SQS queue encrypted at rest (SQS-managed keys: no KMS key policy for the services that send
 * to it), refusing plain-HTTP access, and keeping messages for the maximum 14 days.
 */
export class SecureQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SecureQueueProps = {}) {
    super(scope, id);
    this.queue = new sqs.Queue(this, "Queue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
    });
    if (props.deadLetterRole) {
      Validations.of(this.queue).acknowledge({
        id: "AwsSolutions-SQS3",
        reason: `This queue is ${props.deadLetterRole}; a dead-letter queue of its own would only move the same messages again.`,
      });
    }
  }
}
