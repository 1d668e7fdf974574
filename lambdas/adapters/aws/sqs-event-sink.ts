import { setTimeout as delay } from "node:timers/promises";
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { EventSink } from "../../ports/event-sink.ts";

/** SQS takes at most 10 messages per SendMessageBatch. */
const BATCH_SIZE = 10;
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 100;

/** Some events could not be queued; `failed` names them and what SQS said. */
export class EventQueueError extends Error {
  override readonly name = "EventQueueError";
  constructor(
    readonly failed: readonly { eventId: string; code: string; message: string }[],
    readonly queueUrl: string,
  ) {
    const first = failed[0];
    super(
      `${failed.length} event(s) could not be queued on ${queueUrl} after ${ATTEMPTS} attempts` +
        (first === undefined ? "" : `; first: ${first.eventId}: ${first.code} ${first.message}`),
    );
  }
}

/**
 * EventSink on an SQS queue: one message per event, the event's JSON as the body, the event id
 * and type as attributes (the notifier dedupes on the id). A batch may be partly accepted: the
 * entries SQS did not take are sent again, and whatever is still unsent after the last attempt
 * makes `publish` throw, so the caller never believes an event is kept when it is not.
 */
export class SqsEventSink implements EventSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(events: readonly ScoutEvent[]): Promise<void> {
    const failed: { eventId: string; code: string; message: string }[] = [];
    for (let start = 0; start < events.length; start += BATCH_SIZE) {
      failed.push(...(await this.sendBatch(events.slice(start, start + BATCH_SIZE))));
    }
    if (failed.length > 0) throw new EventQueueError(failed, this.queueUrl);
  }

  /** Sends one batch, retrying the entries SQS did not take; returns what stayed unsent. */
  private async sendBatch(
    batch: readonly ScoutEvent[],
  ): Promise<{ eventId: string; code: string; message: string }[]> {
    // Entry ids are batch positions: an event id may be longer than SQS allows (80 characters).
    let pending: SendMessageBatchRequestEntry[] = batch.map((event, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify(event),
      MessageAttributes: {
        eventId: { DataType: "String", StringValue: event.id },
        eventType: { DataType: "String", StringValue: event.type },
      },
    }));
    let lastFailures = new Map<string, { code: string; message: string }>();
    for (let attempt = 1; attempt <= ATTEMPTS && pending.length > 0; attempt += 1) {
      // SQS throttling clears within moments: a short, growing pause before each retry.
      if (attempt > 1) await delay(RETRY_PAUSE_MS * (attempt - 1));
      const result = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      lastFailures = new Map(
        (result.Failed ?? []).map((f) => [
          f.Id ?? "",
          { code: f.Code ?? "unknown", message: f.Message ?? (f.SenderFault ? "sender fault" : "") },
        ]),
      );
      pending = pending.filter((entry) => lastFailures.has(entry.Id ?? ""));
      // A sender fault (too big, malformed) will fail again the same way: stop retrying those.
      if ((result.Failed ?? []).every((f) => f.SenderFault === true)) break;
    }
    return pending.map((entry) => {
      const index = Number(entry.Id);
      const failure = lastFailures.get(entry.Id ?? "") ?? { code: "unknown", message: "" };
      return { eventId: batch[index]?.id ?? `#${index}`, ...failure };
    });
  }
}
