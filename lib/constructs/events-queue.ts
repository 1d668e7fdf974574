import { Duration } from "aws-cdk-lib";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { SecureQueue } from "./secure-queue.ts";

export interface EventsQueueProps {
  /** The consumer's timeout: a message must stay invisible for longer, or it would be handled twice. */
  readonly consumerTimeout: Duration;
}

/** Receives up to this many times before an event is parked in the dead-letter queue. */
export const EVENTS_MAX_RECEIVE_COUNT = 10;

/**
 * The queue between the prober/correlator and the notifier. What the notifier cannot deliver after
 * its retries lands in the dead-letter queue and is kept for 14 days (never dropped; redrive it).
 */
export class EventsQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventsQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new SecureQueue(this, "DeadLetters", {
      deadLetterRole: "the dead-letter queue of the events queue",
    }).queue;
    this.queue = new SecureQueue(this, "Events", {
      // Six times the consumer's timeout, as Lambda's SQS guide advises for batches and retries.
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: EVENTS_MAX_RECEIVE_COUNT },
    }).queue;
  }
}
