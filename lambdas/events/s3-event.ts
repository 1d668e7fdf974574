import { array, integer, isoTime, literal, object, optional, type ShapeOf, string } from "./event-shape.ts";
import { parseEvent } from "./event-shape-error.ts";

/*
 * S3 event notifications (event structure version 2.x), as S3 sends them straight to Lambda.
 * Object keys arrive URL-encoded with "+" for a space: decode with decodeS3EventKey. Fields AWS
 * may add later are allowed and ignored.
 */

export const s3EventRecordShape = object({
  eventVersion: string({ pattern: /^2\.\d+$/, error: "must be a 2.x S3 event version" }),
  eventSource: literal("aws:s3"),
  awsRegion: string({ minLength: 1 }),
  /** When S3 stored the object: with SES receipt, the moment the return reached the monitor. */
  eventTime: isoTime({ error: "must be an ISO 8601 UTC time" }),
  eventName: string({ minLength: 1 }),
  s3: object({
    s3SchemaVersion: string(),
    configurationId: optional(string()),
    bucket: object({ name: string({ minLength: 1 }), arn: optional(string()) }),
    object: object({
      key: string({ minLength: 1 }),
      size: optional(integer({ min: 0 })),
      eTag: optional(string()),
      versionId: optional(string()),
      sequencer: optional(string()),
    }),
  }),
});

export const s3EventShape = object({ Records: array(s3EventRecordShape, { minLength: 1 }) });

export type S3EventRecord = ShapeOf<typeof s3EventRecordShape>;
export type S3Event = ShapeOf<typeof s3EventShape>;

export function parseS3Event(event: unknown): S3Event {
  return parseEvent(s3EventShape, event, "an S3 event notification (Records[].s3)");
}
