import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import type { SqsRecord } from "./sqs-event.ts";

/**
 * Why an event left the events queue undelivered:
 * expired: retries ran out (webhooks.maxAgeSeconds); rejected: a 3xx/4xx that retrying cannot
 * fix; gone: the endpoint answered 410; malformed: the message is not a delivery at all.
 */
export type DeadLetterReason = "expired" | "rejected" | "gone" | "malformed";

/** Message attributes the notifier adds to what it moves to the dead-letter queue. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: "deadLetterReason",
  lastStatus: "lastStatus",
  lastError: "lastError",
  attempts: "attempts",
  at: "deadLetteredAt",
} as const;

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly lastStatus?: number | undefined;
  readonly lastError: string;
  readonly nowMs: number;
  /** Attempts made; the record's receive count when absent. */
  readonly attempts?: number | undefined;
}

/** SQS refuses message attribute values over its message size; errors are short anyway. */
const MAX_ERROR_CHARS = 500;

/**
 * Moves a record to the events dead-letter queue: the body as it was (so a redrive sends the same
 * bytes), the delivery attributes, and why, with the last status and error. The caller then
 * reports the record as processed, so SQS deletes it from the events queue. A message sent here
 * starts a fresh 14-day retention, unlike one SQS moves after maxReceiveCount.
 */
export class DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async move(record: SqsRecord, letter: DeadLetter): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const name of Object.values(DELIVERY_ATTRIBUTES)) {
      const value = record.messageAttributes[name]?.stringValue;
      if (value) attributes[name] = text(value);
    }
    attributes[DEAD_LETTER_ATTRIBUTES.reason] = text(letter.reason);
    attributes[DEAD_LETTER_ATTRIBUTES.lastError] = text(letter.lastError.slice(0, MAX_ERROR_CHARS) || "-");
    attributes[DEAD_LETTER_ATTRIBUTES.attempts] = number(
      String(letter.attempts ?? record.attributes.ApproximateReceiveCount),
    );
    attributes[DEAD_LETTER_ATTRIBUTES.at] = text(new Date(letter.nowMs).toISOString());
    if (letter.lastStatus !== undefined) {
      attributes[DEAD_LETTER_ATTRIBUTES.lastStatus] = number(String(letter.lastStatus));
    }
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // SQS refuses an empty body; a malformed message may have had nothing worth keeping.
        MessageBody: record.body === "" ? "(empty)" : record.body,
        MessageAttributes: attributes,
      }),
    );
  }
}

function text(value: string): MessageAttributeValue {
  return { DataType: "String", StringValue: value };
}

function number(value: string): MessageAttributeValue {
  return { DataType: "Number", StringValue: value };
}
