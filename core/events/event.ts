/**
 * The envelope every event shares: what webhook consumers (sentinel3G and others) receive as
 * the JSON body. The schema is versioned; consumers must ignore fields they do not know.
 * The published JSON Schema is schemas/events.v1.json.
 */
export const EVENT_SCHEMA_VERSION = 1;

export type EventType =
  | "check.completed"
  | "roundtrip.completed"
  | "status.changed"
  | "certificate.expiring"
  | "webhook.test";

export interface ScoutEvent<T extends EventType = EventType, D = Record<string, unknown>> {
  /** Unique per event ("evt_" + 26 base32 characters); also the webhook-id, so retries are safe to dedupe. */
  readonly id: string;
  readonly type: T;
  readonly version: typeof EVENT_SCHEMA_VERSION;
  /** When it happened, ISO 8601 UTC with ms. */
  readonly time: string;
  readonly customer: string;
  /** The target id from the config ("" for webhook.test). */
  readonly target: string;
  readonly data: D;
}
