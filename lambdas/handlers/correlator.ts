import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { describeError } from "../../core/basics/describe-error.ts";
import { type CorrelationOutcome, correlateInbound } from "../../core/roundtrip/correlate.ts";
import { decodeS3EventKey, S3ReturnSource } from "../aws/s3-return-source.ts";
import { ScoutMetrics } from "../aws/scout-metrics.ts";
import { storedMailEnvelope } from "../aws/ses-stored-envelope.ts";
import { parseS3Event, type S3EventRecord } from "../events/s3-event.ts";
import { ENV, requiredEnv } from "../runtime/env.ts";
import { AWS_CLIENT_DEFAULTS, once } from "../runtime/lambda-basics.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../runtime/runtime.ts";
import { ScoutEvents } from "../runtime/scout-events.ts";

/** Where the SES receipt rule stores inbound mail in RETURNS_BUCKET. */
export const RETURNS_PREFIX = "returns/";

export type RecordResult = CorrelationOutcome["kind"] | "skipped" | "too-large" | "missing";

/** Per-kind counts of one invocation's records. */
export type CorrelatorSummary = Partial<Record<RecordResult, number>> & {
  records: number;
  /** Events queued (or logged without EVENTS_QUEUE_URL); absent when there were none. */
  events?: number;
  /** 1 when the queue refused this invocation's events. */
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

interface CorrelatorRuntime extends Runtime {
  readonly bucket: string;
  readonly returns: S3ReturnSource;
}

/**
 * The correlator Lambda, invoked by S3 for each message the SES receipt rule stores under
 * returns/: reads it and runs the same correlation as local mode (core correlateInbound) on the
 * DynamoDB stores. Bad mail of any kind is a counted, logged rejection and the invocation
 * succeeds, so it is never retried. S3 notifications have no partial-batch response: when S3 or
 * DynamoDB fails for a record the invocation throws after finishing the other records, and
 * Lambda's asynchronous retries run the whole event again; the records already done are then
 * duplicates, which the conditional writes turn into no-ops.
 */
export function createCorrelatorHandler(options: RuntimeOptions & { readonly s3?: S3Client } = {}) {
  const runtime = once((): CorrelatorRuntime => {
    const shared = createRuntime(options);
    const bucket = requiredEnv(ENV.returnsBucket, shared.env);
    const s3 = options.s3 ?? new S3Client(AWS_CLIENT_DEFAULTS);
    return { ...shared, bucket, returns: new S3ReturnSource(s3, bucket, shared.config.inbound.maxBytes) };
  });
  return async (event: unknown, context?: Context): Promise<CorrelatorSummary> => {
    const { Records } = parseS3Event(event);
    const rt = await runtime();
    rt.useLambdaContext(context);
    const metrics = new ScoutMetrics();
    const events = new ScoutEvents(rt);
    const summary: CorrelatorSummary = { records: Records.length };
    const failures: { key: string; error: string }[] = [];
    try {
      for (const record of Records) {
        const key = decodeS3EventKey(record.s3.object.key);
        try {
          const result = await correlateRecord(rt, metrics, events, record, key);
          summary[result] = (summary[result] ?? 0) + 1;
        } catch (error) {
          failures.push({ key, error: describeError(error) });
          rt.log.error("cannot process a stored message; the event will be retried", {
            key,
            error: describeError(error),
          });
        }
      }
      await publishEvents(rt, events, summary);
    } finally {
      metrics.flush();
    }
    rt.log.info("correlator run done", { ...summary, failed: failures.length });
    if (failures.length > 0) throw new TransientCorrelationError(failures);
    return summary;
  };
}

/** The Lambda entry point (CORRELATOR handler "correlator.handler"). */
export const handler = createCorrelatorHandler();

/**
 * Queues the invocation's events. A failure is logged, not thrown: the outcomes are stored, and
 * a retry would find them all duplicates, which make no events, so throwing would only hide it.
 * Their roundtrip.completed events are lost; a status change among them stays in its status
 * record and is sent with the target's next outcome (StatusTracker).
 */
async function publishEvents(
  rt: CorrelatorRuntime,
  events: ScoutEvents,
  summary: CorrelatorSummary,
): Promise<void> {
  try {
    const queued = await events.publish();
    if (queued > 0) summary.events = queued;
  } catch (error) {
    summary.eventsFailed = 1;
    rt.log.error(
      "cannot queue the events of stored outcomes; roundtrip.completed events are lost, status changes go with the next outcome",
      {
        error: describeError(error),
      },
    );
  }
}

async function correlateRecord(
  rt: CorrelatorRuntime,
  metrics: ScoutMetrics,
  events: ScoutEvents,
  record: S3EventRecord,
  key: string,
): Promise<RecordResult> {
  const bucket = record.s3.bucket.name;
  if (
    bucket !== rt.bucket ||
    !record.eventName.startsWith("ObjectCreated:") ||
    !key.startsWith(RETURNS_PREFIX)
  ) {
    rt.log.warn("ignored an S3 event record that is not a new object under returns/", {
      bucket,
      key,
      eventName: record.eventName,
    });
    return "skipped";
  }
  const stored = await rt.returns.read(key);
  if (stored.kind === "missing") {
    rt.log.warn("the stored message is gone; nothing to correlate", { key });
    return "missing";
  }
  const { inbound } = rt.config;
  if (stored.kind === "too-large") {
    const detail = `${stored.bytes} bytes, more than inbound.maxBytes ${stored.maxBytes}`;
    await rt.probes.countRejection("malformed-mail", detail, rt.clock.now());
    metrics.returnRejected("malformed-mail");
    rt.log.warn("return rejected", { reason: "malformed-mail", detail, key });
    return "too-large";
  }
  const outcome = await correlateInbound(
    {
      raw: stored.raw,
      // S3 stored the object at eventTime: the moment the return reached the monitor.
      receivedAtMs: Date.parse(record.eventTime),
      envelope: storedMailEnvelope(stored.raw, {
        returnAddress: inbound.returnAddress,
        inboundDomain: inbound.domain,
      }),
      source: `s3://${bucket}/${key}`,
    },
    {
      store: rt.probes,
      key: await rt.probeKey(),
      returnAddress: inbound.returnAddress,
      inboundDomain: inbound.domain,
      maxAgeMs: rt.config.roundTrip.maxAgeSeconds * 1000,
      clock: rt.clock,
    },
  );
  report(rt, metrics, outcome, key);
  if (outcome.kind === "returned" || outcome.kind === "late" || outcome.kind === "bounced") {
    try {
      await events.roundTrip(outcome.probe);
    } catch (error) {
      // The outcome is stored: a retry would be a duplicate. The status bookkeeping catches up next time.
      rt.log.error("cannot build the events of an outcome", {
        probe: outcome.probe.probeId,
        error: describeError(error),
      });
    }
  }
  return outcome.kind;
}

/** Metrics and one log line per outcome, as local mode logs them. */
function report(
  rt: CorrelatorRuntime,
  metrics: ScoutMetrics,
  outcome: CorrelationOutcome,
  key: string,
): void {
  switch (outcome.kind) {
    case "returned":
    case "late": {
      const { probe } = outcome;
      // A late return is not a RoundTripTime sample: the probe already counted as lost at its deadline.
      if (outcome.kind === "returned") metrics.roundTripTime(probe.targetId, probe.rttMs ?? 0);
      metrics.probeCount(outcome.kind === "returned" ? "ProbeReturned" : "ProbeLate", probe.targetId);
      rt.log.info(`probe ${outcome.kind}`, {
        target: probe.targetId,
        probe: probe.probeId,
        rttMs: probe.rttMs,
        key,
      });
      return;
    }
    case "bounced":
      metrics.probeCount("ProbeBounced", outcome.probe.targetId);
      rt.log.warn("probe bounced", {
        target: outcome.probe.targetId,
        probe: outcome.probe.probeId,
        status: outcome.probe.bounce?.status,
        diagnostic: outcome.probe.bounce?.diagnostic,
        key,
      });
      return;
    case "rejected":
      metrics.returnRejected(outcome.reason);
      rt.log.warn("return rejected", {
        reason: outcome.reason,
        detail: outcome.detail,
        probe: outcome.probeId,
        key,
      });
      return;
    default:
      rt.log.info(`inbound ${outcome.kind}`, { probe: outcome.probeId, key });
  }
}
