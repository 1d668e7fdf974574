import { z } from "zod";
import { parseEvent } from "../events/event-shape-error.ts";

/*
 * The event Lambda's SQS event source sends: up to batchSize records, each one received message.
 * Only the envelope is checked here; a record's body and attributes are the notifier's to judge,
 * one record at a time, so one bad message never fails its neighbours. Fields AWS may add later
 * are allowed and ignored.
 */

const digits = (what: string) => z.string().regex(/^\d+$/, { error: `must be ${what} as digits` });

const messageAttributeSchema = z.object({
  dataType: z.string(),
  stringValue: z.string().optional(),
});

export const sqsRecordSchema = z.object({
  messageId: z.string().min(1),
  receiptHandle: z.string().min(1),
  body: z.string(),
  attributes: z.object({
    /** How many times the message was received, this time included: the attempt number. */
    ApproximateReceiveCount: digits("a count"),
    /** When the message entered the queue (ms): the start of its retry window. */
    SentTimestamp: digits("epoch milliseconds"),
  }),
  messageAttributes: z.record(z.string(), messageAttributeSchema).default({}),
  eventSource: z.literal("aws:sqs"),
  eventSourceARN: z.string().min(1),
});

export const sqsEventSchema = z.object({ Records: z.array(sqsRecordSchema) });

export type SqsRecord = z.infer<typeof sqsRecordSchema>;
export type SqsEvent = z.infer<typeof sqsEventSchema>;

export function parseSqsEvent(event: unknown): SqsEvent {
  return parseEvent(sqsEventSchema, event, "an SQS event from the events queue (Records[] of aws:sqs)");
}

/** What a handler with ReportBatchItemFailures answers: the messages to keep in the queue. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
