import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageCommandInput,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { Clock } from "../../core/ports/clock.ts";
import { REGION } from "./aws-standins.ts";

/** One message of the events queue as the stand-in keeps it. */
interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly sentAtMs: number;
  receiveCount: number;
  visibleAtMs: number;
  receiptHandle: string;
}

type Records = ReturnType<EventsQueueStandIn["receive"]>;

/**
 * The events queue and its dead-letter queue, kept in memory on an injected clock, behind an
 * SQSClient whose calls aws-sdk-client-mock routes here. It does what the notifier relies on:
 * a received message is hidden for the queue's visibility timeout; ChangeMessageVisibility
 * (by the current receipt handle) re-hides it from now; the event source deletes what the
 * handler did not report as a batch item failure; SendMessageBatch to the queue adds messages;
 * SendMessage to the dead-letter queue keeps them. `refuseBatches` makes SendMessageBatch fail.
 */
export class EventsQueueStandIn {
  readonly client = new SQSClient({ region: REGION });
  readonly deadLetters: SendMessageCommandInput[] = [];
  refuseBatches = false;
  private readonly mock: AwsClientStub<SQSClient>;
  private messages: QueuedMessage[] = [];
  private counter = 0;

  constructor(
    private readonly clock: Clock,
    readonly queueUrl: string,
    readonly deadLetterUrl: string,
    private readonly visibilityTimeoutMs = 360_000,
  ) {
    this.mock = mockClient(this.client);
    this.mock.on(ChangeMessageVisibilityCommand).callsFake((input) => {
      const message = this.messages.find((m) => m.receiptHandle === input.ReceiptHandle);
      if (message === undefined) throw new Error(`ReceiptHandleIsInvalid: ${input.ReceiptHandle}`);
      message.visibleAtMs = this.clock.now() + input.VisibilityTimeout * 1000;
      return {};
    });
    this.mock.on(SendMessageBatchCommand).callsFake((input) => {
      if (input.QueueUrl !== this.queueUrl) throw new Error(`no such queue: ${input.QueueUrl}`);
      if (this.refuseBatches) throw new Error("ServiceUnavailable: the queue refused the batch");
      for (const entry of input.Entries ?? [])
        this.add(entry.MessageBody ?? "", entry.MessageAttributes ?? {});
      return {
        Successful: (input.Entries ?? []).map((entry: { Id: string }) => ({ Id: entry.Id })),
        Failed: [],
      };
    });
    this.mock.on(SendMessageCommand).callsFake((input) => {
      if (input.QueueUrl !== this.deadLetterUrl)
        throw new Error(`unexpected SendMessage to ${input.QueueUrl}`);
      this.deadLetters.push(input);
      return { MessageId: `dlq-${this.deadLetters.length}` };
    });
  }

  /** Queues one event for one endpoint, as SqsEventSink does. */
  send(event: ScoutEvent, endpointId: string): void {
    this.add(JSON.stringify(event), {
      endpointId: { DataType: "String", StringValue: endpointId },
      eventId: { DataType: "String", StringValue: event.id },
      eventType: { DataType: "String", StringValue: event.type },
    });
  }

  /** Messages in the queue, hidden or not. */
  get depth(): number {
    return this.messages.length;
  }

  /** When the next hidden message becomes visible, if one is hidden. */
  nextVisibleAtMs(): number | undefined {
    const times = this.messages.map((message) => message.visibleAtMs);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Receives up to `max` visible messages, oldest first, as Lambda's event source hands them over. */
  receive(max = 10) {
    const nowMs = this.clock.now();
    const visible = this.messages
      .filter((message) => message.visibleAtMs <= nowMs)
      .sort((a, b) => a.sentAtMs - b.sentAtMs)
      .slice(0, max);
    return visible.map((message) => {
      message.receiveCount += 1;
      message.visibleAtMs = nowMs + this.visibilityTimeoutMs;
      this.counter += 1;
      message.receiptHandle = `receipt-${this.counter}`;
      return {
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAtMs),
        },
        messageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([name, value]) => [
            name,
            { dataType: value.DataType ?? "String", stringValue: value.StringValue },
          ]),
        ),
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:scout-events",
      };
    });
  }

  /** What the event source does after the handler answered: deletes every record not reported as failed. */
  settle(records: Records, response: { batchItemFailures: { itemIdentifier: string }[] }): void {
    const kept = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = new Set(records.filter((record) => !kept.has(record.messageId)).map((r) => r.receiptHandle));
    this.messages = this.messages.filter((message) => !done.has(message.receiptHandle));
  }

  restore(): void {
    this.mock.restore();
  }

  private add(body: string, attributes: Record<string, MessageAttributeValue>): void {
    this.counter += 1;
    const nowMs = this.clock.now();
    this.messages.push({
      messageId: `msg-${String(this.counter).padStart(6, "0")}`,
      body,
      attributes,
      sentAtMs: nowMs,
      receiveCount: 0,
      visibleAtMs: nowMs,
      receiptHandle: "",
    });
  }
}
