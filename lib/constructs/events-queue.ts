import { Duration } from "aws-cdk-lib";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { SecureQueue } from "./secure-queue.ts";

export interface EventsQueueProps {
  /** The consumer's timeout: a message must stay invisible for longer, or it would be handled twice. */
  readonly consumerTimeout: Duration;
}

/**
 * SQS parks a message in the dead-letter queue after this many receives: SQS's maximum. The
 * notifier itself moves an event there once webhooks.maxAgeSeconds has passed (a day by
 * default, about 300 attempts at the backoff's ceiling), with the reason; this limit is only the
 * backstop for a message that makes every invocation fail.
 */
export const EVENTS_MAX_RECEIVE_COUNT = 1000;

/**
 * The queue between the prober/correlator and the notifier: one message per event and webhook
 * endpoint. What the notifier cannot deliver (retries ran out, a 4xx, a 410, a malformed message)
 * it moves to the dead-letter queue, where it is kept for 14 days (never dropped; redrive it).
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
