import { WEBHOOK_EVENT_TYPES } from "../../core/config/config-rules.ts";
import { EVENT_SCHEMA_VERSION, type EventType } from "../../core/events/event.ts";
import { DELIVERY_ATTRIBUTES } from "../aws/sqs-event-sink.ts";
import {
  anything,
  checkShape,
  isoTime,
  literal,
  object,
  oneOf,
  record,
  string,
} from "../events/event-shape.ts";
import type { SqsRecord } from "./sqs-event.ts";

/** One delivery, as SqsEventSink queued it: the event's JSON for one endpoint. */
export interface DeliveryMessage {
  readonly endpointId: string;
  readonly event: {
    readonly id: string;
    readonly type: EventType;
    readonly time: string;
    /** The body as queued: posted byte for byte, so what was signed is what was queued. */
    readonly json: string;
  };
}

/** A message that is not a delivery: it can never succeed, so it is moved aside, not retried. */
export class MalformedDeliveryError extends Error {
  override readonly name = "MalformedDeliveryError";
}

/*
 * The fields delivery relies on. Looser than the published schema on purpose: the body is sent
 * as it is, so a field this version does not know must not stop it.
 */
const eventShape = object({
  // The id becomes the webhook-id, which may not hold a "." (Standard Webhooks signs "id.ts.body").
  id: string({ pattern: /^[A-Za-z0-9_-]{1,100}$/, error: "must be an event id like evt_..." }),
  type: oneOf(WEBHOOK_EVENT_TYPES),
  version: literal(EVENT_SCHEMA_VERSION),
  time: isoTime({ offset: true, error: "must be an ISO 8601 time" }),
  customer: string(),
  target: string(),
  data: record(anything),
});

/** Reads a record as a delivery; throws MalformedDeliveryError saying what is wrong. */
export function parseDeliveryMessage(record: SqsRecord): DeliveryMessage {
  const endpointId = record.messageAttributes[DELIVERY_ATTRIBUTES.endpointId]?.stringValue;
  if (endpointId === undefined || endpointId === "") {
    throw new MalformedDeliveryError(
      `message attribute ${DELIVERY_ATTRIBUTES.endpointId} is missing: not queued by Email Scout's event sink`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    throw new MalformedDeliveryError(`the body is not JSON: ${(error as Error).message}`);
  }
  const parsed = checkShape(eventShape, body);
  if (parsed.problems.length > 0) {
    throw new MalformedDeliveryError(`the body is not an Email Scout event: ${parsed.problems.join("; ")}`);
  }
  const { id, type, time } = parsed.value;
  return { endpointId, event: { id, type, time, json: record.body } };
}
