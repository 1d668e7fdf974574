import { S3Client } from "@aws-sdk/client-s3";
import { type InboundReturn, type IntakeResult, takeReturn } from "../../core/intake/take-return.ts";
import type { MetricsObserver } from "../../core/ports/metrics.ts";
import type { CorrelationOutcome } from "../../core/roundtrip/correlate.ts";
import { S3ReturnSource } from "../aws/s3-return-source.ts";
import { storedMailEnvelope } from "../aws/ses-stored-envelope.ts";
import type { S3EventRecord } from "../events/s3-event.ts";
import { ENV, requiredEnv } from "./env.ts";
import { AWS_CLIENT_DEFAULTS } from "./lambda-basics.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime.ts";

/** Where the SES receipt rule stores inbound mail in RETURNS_BUCKET. */
export const RETURNS_PREFIX = "returns/";

export interface CorrelatorRuntime extends Runtime {
  readonly bucket: string;
  readonly returns: S3ReturnSource;
}

export interface CorrelatorOptions extends RuntimeOptions {
  readonly s3?: S3Client;
}

export function createCorrelatorRuntime(options: CorrelatorOptions): CorrelatorRuntime {
  const shared = createRuntime(options);
  const bucket = requiredEnv(ENV.returnsBucket, shared.env);
  const s3 = options.s3 ?? new S3Client(AWS_CLIENT_DEFAULTS);
  return { ...shared, bucket, returns: new S3ReturnSource(s3, bucket, shared.config.inbound.maxBytes) };
}

export type CorrelatorRecordResult = CorrelationOutcome["kind"] | "skipped" | "missing";

/** Per-kind counts of one invocation's records. */
export type CorrelatorSummary = Partial<Record<CorrelatorRecordResult, number>> & {
  records: number;
  /** Events queued (or logged without EVENTS_QUEUE_URL); absent when there were none. */
  events?: number;
  /** Records whose events the queue refused (their outcomes are announced by the next prober run). */
  eventsFailed?: number;
};

/** Some records hit a store or S3 failure; the invocation fails so Lambda retries the event. */
export class TransientCorrelationError extends Error {
  override readonly name = "TransientCorrelationError";
  constructor(readonly failures: readonly { key: string; error: string }[]) {
    super(
      `${failures.length} stored message(s) could not be processed and will be retried: ` +
        failures.map((f) => `${f.key}: ${f.error}`).join("; "),
    );
  }
}

/** What became of one S3 event record. */
export type StoredReturnResult =
  | { readonly kind: "skipped" | "missing" }
  | (IntakeResult & { readonly kind: CorrelationOutcome["kind"] });

/**
 * One S3 event record through the core's intake: records that are not a new object under
 * returns/ of the bucket are skipped, a vanished object is "missing". Throws only on an S3 or
 * store failure (the invocation is then retried).
 */
export async function takeStoredReturn(
  rt: CorrelatorRuntime,
  metrics: MetricsObserver,
  record: S3EventRecord,
  key: string,
): Promise<StoredReturnResult> {
  if (foreignRecord(rt, record, key)) {
    rt.log.warn("ignored an S3 event record that is not a new object under returns/", {
      bucket: record.s3.bucket.name,
      key,
      eventName: record.eventName,
    });
    return { kind: "skipped" };
  }
  const inbound = await readReturn(rt, record, key);
  if (inbound === "missing") {
    rt.log.warn("the stored message is gone; nothing to correlate", { key });
    return { kind: "missing" };
  }
  const result = await takeReturn(inbound, { ...rt, metrics });
  return { ...result, kind: result.outcome.kind };
}

/** Whether an S3 event record is not a return to take: not a new object under returns/ of our bucket. */
function foreignRecord(rt: CorrelatorRuntime, record: S3EventRecord, key: string): boolean {
  return (
    record.s3.bucket.name !== rt.bucket ||
    !record.eventName.startsWith("ObjectCreated:") ||
    !key.startsWith(RETURNS_PREFIX)
  );
}

/**
 * The stored message as the core's intake takes it, or "missing" when the object is gone.
 * S3 stored the object at the record's eventTime: the moment the return reached the monitor.
 */
async function readReturn(
  rt: CorrelatorRuntime,
  record: S3EventRecord,
  key: string,
): Promise<InboundReturn | "missing"> {
  const stored = await rt.returns.read(key);
  const source = `s3://${rt.bucket}/${key}`;
  if (stored.kind === "missing") return "missing";
  if (stored.kind === "too-large") {
    return { kind: "too-large", bytes: stored.bytes, maxBytes: stored.maxBytes, source };
  }
  const { inbound } = rt.config;
  return {
    kind: "mail",
    mail: {
      raw: stored.raw,
      receivedAtMs: Date.parse(record.eventTime),
      envelope: storedMailEnvelope(stored.raw, {
        returnAddress: inbound.returnAddress,
        inboundDomain: inbound.domain,
      }),
      source,
    },
  };
}
