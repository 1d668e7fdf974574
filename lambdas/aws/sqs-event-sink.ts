import { setTimeout as delay } from "node:timers/promises";
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { describeError } from "../../core/basics/describe-error.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { EventSink, PartlyKept } from "../../core/ports/event-sink.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { type EndpointFilter, routeEvent } from "../../core/webhook/routing.ts";

/** SQS takes at most 10 messages per SendMessageBatch. */
const BATCH_SIZE = 10;
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 100;

/**
 * The message attributes of one delivery message; the body is the event's JSON, byte for byte
 * what the notifier posts. `endpointId` says where it goes; the other two are for people
 * looking at the queue or its dead-letter queue.
 */
export const DELIVERY_ATTRIBUTES = {
  endpointId: "endpointId",
  eventId: "eventId",
  eventType: "eventType",
} as const;

/** One (event, endpoint) message SQS did not take, and what it said. */
export interface UnqueuedDelivery {
  readonly eventId: string;
  readonly endpointId: string;
  readonly code: string;
  readonly message: string;
}

/**
 * Some deliveries could not be queued; `failed` names them and what SQS said. The others were
 * queued: the PartlyKept sets tell the caller which events are not (wholly) kept.
 */
export class EventQueueError extends Error implements PartlyKept {
  override readonly name = "EventQueueError";
  readonly incompleteEventIds: ReadonlySet<string>;
  readonly droppedEventIds: ReadonlySet<string>;
  constructor(
    readonly failed: readonly UnqueuedDelivery[],
    readonly queueUrl: string,
    /** How many deliveries each event had (event id -> count). */
    deliveriesPerEvent: ReadonlyMap<string, number>,
    options?: { cause?: unknown },
  ) {
    const first = failed[0];
    super(
      `${failed.length} event delivery message(s) could not be queued on ${queueUrl}` +
        (options?.cause === undefined ? ` after ${ATTEMPTS} attempts` : `: ${describeError(options.cause)}`) +
        (first === undefined
          ? ""
          : `; first: ${first.eventId} for endpoint ${first.endpointId}: ${first.code} ${first.message}`),
      options,
    );
    const failedPerEvent = new Map<string, number>();
    for (const { eventId } of failed) failedPerEvent.set(eventId, (failedPerEvent.get(eventId) ?? 0) + 1);
    this.incompleteEventIds = new Set(failedPerEvent.keys());
    this.droppedEventIds = new Set(
      [...failedPerEvent]
        .filter(([eventId, count]) => count >= (deliveriesPerEvent.get(eventId) ?? 0))
        .map(([id]) => id),
    );
  }
}

interface Delivery {
  readonly event: ScoutEvent;
  readonly body: string;
  readonly endpointId: string;
}

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * EventSink on the events queue, fanning out at publish time as local mode's outbox does: one
 * message per (event, endpoint that wants it), so each endpoint's retries, backoff and
 * dead-lettering are its own. An event no endpoint wants is not queued.
 *
 * A batch may be partly accepted: the entries SQS did not take are sent again, and whatever is
 * still unsent after the last attempt makes `publish` throw, so the caller never believes an
 * event is kept when it is not.
 */
export class SqsEventSink implements EventSink {
  /** (type, customer) pairs already reported as wanted by no endpoint: said once per container. */
  private readonly unwantedSeen = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly endpoints: readonly EndpointFilter[],
    private readonly log: Logger = silent,
  ) {}

  async publish(events: readonly ScoutEvent[]): Promise<void> {
    const deliveries = events.flatMap((event) => this.deliveriesOf(event));
    const failed: UnqueuedDelivery[] = [];
    let queued = 0;
    let cause: unknown;
    for (let start = 0; start < deliveries.length; start += BATCH_SIZE) {
      const batch = deliveries.slice(start, start + BATCH_SIZE);
      if (cause !== undefined) {
        // SQS refused a call: the rest are not tried now, and not queued.
        failed.push(...batch.map((delivery) => unqueued(delivery, thrownReason(cause))));
        continue;
      }
      const outcome = await this.sendBatch(batch);
      failed.push(...outcome.unsent);
      queued += batch.length - outcome.unsent.length;
      cause = outcome.thrown;
    }
    if (failed.length === 0) return;
    // Nothing queued at all: the error as SQS gave it (the caller counts nothing as kept).
    if (queued === 0 && cause !== undefined) throw cause;
    const perEvent = new Map<string, number>();
    for (const { event } of deliveries) perEvent.set(event.id, (perEvent.get(event.id) ?? 0) + 1);
    throw new EventQueueError(failed, this.queueUrl, perEvent, cause === undefined ? undefined : { cause });
  }

  private deliveriesOf(event: ScoutEvent): Delivery[] {
    const wanting = routeEvent(event, this.endpoints);
    if (wanting.length === 0) {
      const key = `${event.type}\u0000${event.customer}`;
      if (!this.unwantedSeen.has(key)) {
        this.unwantedSeen.add(key);
        this.log.info("no webhook endpoint wants these events; they are not queued", {
          type: event.type,
          customer: event.customer,
          endpoints: this.endpoints.length,
        });
      }
      return [];
    }
    const body = JSON.stringify(event);
    return wanting.map((endpoint) => ({ event, body, endpointId: endpoint.id }));
  }

  /**
   * Sends one batch, retrying the entries SQS did not take; returns what stayed unsent, and the
   * error if a call threw (the entries an earlier attempt got in stay counted as queued).
   */
  private async sendBatch(
    batch: readonly Delivery[],
  ): Promise<{ unsent: UnqueuedDelivery[]; thrown?: unknown }> {
    // Entry ids are batch positions: an event id may be longer than SQS allows (80 characters).
    let pending: SendMessageBatchRequestEntry[] = batch.map((delivery, index) => ({
      Id: String(index),
      MessageBody: delivery.body,
      MessageAttributes: {
        [DELIVERY_ATTRIBUTES.endpointId]: text(delivery.endpointId),
        [DELIVERY_ATTRIBUTES.eventId]: text(delivery.event.id),
        [DELIVERY_ATTRIBUTES.eventType]: text(delivery.event.type),
      },
    }));
    const deliveryOf = (entry: SendMessageBatchRequestEntry) => batch[Number(entry.Id)] as Delivery;
    let lastFailures = new Map<string, { code: string; message: string }>();
    for (let attempt = 1; attempt <= ATTEMPTS && pending.length > 0; attempt += 1) {
      // SQS throttling clears within moments: a short, growing pause before each retry.
      if (attempt > 1) await delay(RETRY_PAUSE_MS * (attempt - 1));
      let result: SendMessageBatchCommandOutput;
      try {
        result = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
      } catch (error) {
        const reason = thrownReason(error);
        return { unsent: pending.map((entry) => unqueued(deliveryOf(entry), reason)), thrown: error };
      }
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
    return {
      unsent: pending.map((entry) =>
        unqueued(deliveryOf(entry), lastFailures.get(entry.Id ?? "") ?? { code: "unknown", message: "" }),
      ),
    };
  }
}

function unqueued(delivery: Delivery, reason: { code: string; message: string }): UnqueuedDelivery {
  return { eventId: delivery.event.id, endpointId: delivery.endpointId, ...reason };
}

/** What a call that threw says, as an unqueued delivery's code and message. */
function thrownReason(error: unknown): { code: string; message: string } {
  return { code: (error as { name?: string }).name ?? "Error", message: describeError(error) };
}

function text(value: string): MessageAttributeValue {
  return { DataType: "String", StringValue: value };
}
