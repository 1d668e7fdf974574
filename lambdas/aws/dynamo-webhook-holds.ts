import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { EndpointHold } from "../../core/webhook/endpoint-hold.ts";
import { isConditionalCheckFailed } from "./dynamo-errors.ts";

/** A held endpoint as the table keeps it: the hold, and which queued message is its probe. */
export interface StoredHold extends EndpointHold {
  /** The SQS message id of the probe, hidden until the hold ends; absent while nobody owns it. */
  readonly probe?: string | undefined;
}

/** One event parked behind a hold: everything needed to post it, dead-letter it, or queue it again. */
export interface ParkedEvent {
  readonly messageId: string;
  readonly body: string;
  /** The message's delivery attributes (endpointId, eventId, eventType), as strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /** When the event was first queued for this endpoint: the start of its retry window. */
  readonly queuedAtMs: number;
  /** Attempts made before it was parked. */
  readonly attempts: number;
}

const HOLD_KEY = "hold";
const PARKED_PREFIX = "parked#";
/** Epoch milliseconds have 13 digits until the year 2286; padded so the sort key orders by time. */
const TIME_DIGITS = 15;

function parkedKey(event: Pick<ParkedEvent, "queuedAtMs" | "messageId">): string {
  return `${PARKED_PREFIX}${String(event.queuedAtMs).padStart(TIME_DIGITS, "0")}#${event.messageId}`;
}

/**
 * The webhook holds table (WEBHOOK_HOLDS_TABLE_DESIGN). Every read is strongly consistent: a hold
 * written by one notifier invocation must be seen by the next message of any other. The hold's
 * writes are conditional, so two invocations never both start a hold or both own its probe.
 */
export class DynamoWebhookHolds {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(endpointId: string): Promise<StoredHold | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { endpointId, sk: HOLD_KEY }, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    return {
      failures: Number(Item.failures),
      heldUntilMs: Number(Item.heldUntilMs),
      probe: typeof Item.probe === "string" ? Item.probe : undefined,
    };
  }

  /** Holds an endpoint that was not held; false when another invocation held it first. */
  async start(endpointId: string, hold: StoredHold): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: { endpointId, sk: HOLD_KEY, ...holdFields(hold) },
        ConditionExpression: "attribute_not_exists(endpointId)",
      }),
    );
  }

  /** The probe's next step; false when `probe` no longer owns the hold (or it was released). */
  async extend(endpointId: string, probe: string, hold: StoredHold): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: { endpointId, sk: HOLD_KEY, ...holdFields(hold) },
        ConditionExpression: "probe = :probe",
        ExpressionAttributeValues: { ":probe": probe },
      }),
    );
  }

  /** Takes the probe slot from `seen` (absent: nobody's): false when another message took it. */
  async claimProbe(endpointId: string, messageId: string, seen: string | undefined): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { endpointId, sk: HOLD_KEY },
        UpdateExpression: "SET probe = :mine",
        ConditionExpression:
          seen === undefined ? "attribute_exists(sk) AND attribute_not_exists(probe)" : "probe = :seen",
        ExpressionAttributeValues: { ":mine": messageId, ...(seen === undefined ? {} : { ":seen": seen }) },
      }),
    );
  }

  /** Ends the hold: the endpoint answered. */
  async clear(endpointId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { endpointId, sk: HOLD_KEY } }));
  }

  /** Parks an event; parking the same message twice leaves one item. */
  async park(endpointId: string, event: ParkedEvent): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { endpointId, sk: parkedKey(event), ...event },
      }),
    );
  }

  async unpark(endpointId: string, event: Pick<ParkedEvent, "queuedAtMs" | "messageId">): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: { endpointId, sk: parkedKey(event) } }),
    );
  }

  /**
   * The endpoint's parked events, oldest first, up to `limit`, and only those queued at or before
   * `queuedUpToMs` when given (the ones past the age limit).
   */
  async parked(endpointId: string, limit: number, queuedUpToMs?: number): Promise<ParkedEvent[]> {
    const upTo =
      queuedUpToMs === undefined
        ? `${PARKED_PREFIX}\uffff`
        : `${PARKED_PREFIX}${String(queuedUpToMs).padStart(TIME_DIGITS, "0")}#\uffff`;
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "endpointId = :endpoint AND sk BETWEEN :from AND :upTo",
        ExpressionAttributeValues: { ":endpoint": endpointId, ":from": PARKED_PREFIX, ":upTo": upTo },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      messageId: String(item.messageId),
      body: String(item.body),
      attributes: (item.attributes ?? {}) as Record<string, string>,
      queuedAtMs: Number(item.queuedAtMs),
      attempts: Number(item.attempts),
    }));
  }

  private async conditional(command: PutCommand | UpdateCommand): Promise<boolean> {
    try {
      await this.doc.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function holdFields(hold: StoredHold) {
  return {
    failures: hold.failures,
    heldUntilMs: hold.heldUntilMs,
    ...(hold.probe === undefined ? {} : { probe: hold.probe }),
  };
}
