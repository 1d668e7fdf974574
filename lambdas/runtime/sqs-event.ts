import {
  array,
  literal,
  object,
  optional,
  record,
  type ShapeOf,
  string,
  withDefault,
} from "../events/event-shape.ts";
import { parseEvent } from "../events/event-shape-error.ts";

/*
 * The event Lambda's SQS event source sends: up to batchSize records, each one received message.
 * Only the envelope is checked here; a record's body and attributes are the notifier's to judge,
 * one record at a time, so one bad message never fails its neighbours. Fields AWS may add later
 * are allowed and ignored.
 */

const digits = (what: string) => string({ pattern: /^\d+$/, error: `must be ${what} as digits` });

const messageAttributeShape = object({
  dataType: string(),
  stringValue: optional(string()),
});

export const sqsRecordShape = object({
  messageId: string({ minLength: 1 }),
  receiptHandle: string({ minLength: 1 }),
  body: string(),
  attributes: object({
    /** How many times the message was received, this time included: the attempt number. */
    ApproximateReceiveCount: digits("a count"),
    /** When the message entered the queue (ms): the start of its retry window. */
    SentTimestamp: digits("epoch milliseconds"),
  }),
  messageAttributes: withDefault(record(messageAttributeShape), () => ({})),
  eventSource: literal("aws:sqs"),
  eventSourceARN: string({ minLength: 1 }),
});

export const sqsEventShape = object({ Records: array(sqsRecordShape) });

export type SqsRecord = ShapeOf<typeof sqsRecordShape>;
export type SqsEvent = ShapeOf<typeof sqsEventShape>;

export function parseSqsEvent(event: unknown): SqsEvent {
  return parseEvent(sqsEventShape, event, "an SQS event from the events queue (Records[] of aws:sqs)");
}

/** What a handler with ReportBatchItemFailures answers: the messages to keep in the queue. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
