import { type MessageAttributeValue, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { ParkedEvent } from "../aws/dynamo-webhook-holds.ts";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import type { NotifierRuntime } from "./notifier-runtime.ts";
import type { SqsRecord } from "./sqs-event.ts";

/**
 * Attributes of a parked event the notifier puts back on the events queue: it keeps its place in
 * time (its retry window still starts when it was first queued) and its attempts so far.
 * Absent on messages the event sink queued; not copied to the dead-letter queue, so a redrive
 * starts a fresh window.
 */
export const REQUEUE_ATTRIBUTES = {
  queuedAt: "queuedAtMs",
  priorAttempts: "priorAttempts",
} as const;

/** SendMessageBatch's limit. */
const BATCH_SIZE = 10;

/** When the event was first queued for its endpoint (ms): the start of its retry window. */
export function queuedAtOf(record: SqsRecord): number {
  const requeued = Number(record.messageAttributes[REQUEUE_ATTRIBUTES.queuedAt]?.stringValue);
  return Number.isFinite(requeued) && requeued > 0 ? requeued : Number(record.attributes.SentTimestamp);
}

/** Attempts so far, this one included. */
export function attemptsOf(record: SqsRecord): number {
  const prior = Number(record.messageAttributes[REQUEUE_ATTRIBUTES.priorAttempts]?.stringValue);
  const receives = Number(record.attributes.ApproximateReceiveCount);
  return (Number.isFinite(prior) && prior > 0 ? prior : 0) + receives;
}

/** A parked event as a record, so it is posted and dead-lettered as a received message is. */
export function parkedAsRecord(event: ParkedEvent, eventSourceARN: string): SqsRecord {
  return {
    messageId: event.messageId,
    receiptHandle: `parked:${event.messageId}`,
    body: event.body,
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(event.queuedAtMs) },
    messageAttributes: {
      ...Object.fromEntries(
        Object.entries(event.attributes).map(([name, value]) => [
          name,
          { dataType: "String", stringValue: value },
        ]),
      ),
      [REQUEUE_ATTRIBUTES.queuedAt]: { dataType: "Number", stringValue: String(event.queuedAtMs) },
      [REQUEUE_ATTRIBUTES.priorAttempts]: { dataType: "Number", stringValue: String(event.attempts) },
    },
    eventSource: "aws:sqs",
    eventSourceARN,
  };
}

/** What a parked event keeps of a record: its body and delivery attributes. */
export function deliveryAttributesOf(record: SqsRecord): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of Object.values(DELIVERY_ATTRIBUTES)) {
    const value = record.messageAttributes[name]?.stringValue;
    if (value) kept[name] = value;
  }
  return kept;
}

/**
 * Puts parked events back on the events queue, the same body and delivery attributes, in batches
 * of ten. Returns those SQS took: only they may be removed from the table.
 */
export async function requeue(rt: NotifierRuntime, events: readonly ParkedEvent[]): Promise<ParkedEvent[]> {
  const taken: ParkedEvent[] = [];
  for (let start = 0; start < events.length; start += BATCH_SIZE) {
    const batch = events.slice(start, start + BATCH_SIZE);
    const answer = await rt.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: rt.queueUrl,
        Entries: batch.map((event, index) => ({
          Id: String(index),
          MessageBody: event.body,
          MessageAttributes: requeueAttributes(event),
        })),
      }),
    );
    for (const done of answer.Successful ?? []) {
      const event = batch[Number(done.Id)];
      if (event) taken.push(event);
    }
  }
  return taken;
}

function requeueAttributes(event: ParkedEvent): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(event.attributes)) {
    attributes[name] = { DataType: "String", StringValue: value };
  }
  attributes[REQUEUE_ATTRIBUTES.queuedAt] = { DataType: "Number", StringValue: String(event.queuedAtMs) };
  attributes[REQUEUE_ATTRIBUTES.priorAttempts] = { DataType: "Number", StringValue: String(event.attempts) };
  return attributes;
}
