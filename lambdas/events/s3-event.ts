import { z } from "zod";
import { parseEvent } from "./event-shape-error.ts";

/*
 * S3 event notifications (event structure version 2.x), as S3 sends them straight to Lambda.
 * Object keys arrive URL-encoded with "+" for a space: decode with decodeS3EventKey. Fields AWS
 * may add later are allowed and ignored.
 */

export const s3EventRecordSchema = z.object({
  eventVersion: z.string().regex(/^2\.\d+$/, { error: "must be a 2.x S3 event version" }),
  eventSource: z.literal("aws:s3"),
  awsRegion: z.string().min(1),
  /** When S3 stored the object: with SES receipt, the moment the return reached the monitor. */
  eventTime: z.iso.datetime({ error: "must be an ISO 8601 UTC time" }),
  eventName: z.string().min(1),
  s3: z.object({
    s3SchemaVersion: z.string(),
    configurationId: z.string().optional(),
    bucket: z.object({ name: z.string().min(1), arn: z.string().optional() }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().min(0).optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

export const s3EventSchema = z.object({ Records: z.array(s3EventRecordSchema).min(1) });

export type S3EventRecord = z.infer<typeof s3EventRecordSchema>;
export type S3Event = z.infer<typeof s3EventSchema>;

export function parseS3Event(event: unknown): S3Event {
  return parseEvent(s3EventSchema, event, "an S3 event notification (Records[].s3)");
}
