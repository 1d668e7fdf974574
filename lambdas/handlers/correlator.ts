import type { Context } from "aws-lambda";
import { describeError } from "../../core/basics/describe-error.ts";
import { decodeS3EventKey } from "../aws/s3-return-source.ts";
import { ScoutMetrics } from "../aws/scout-metrics.ts";
import { parseS3Event } from "../events/s3-event.ts";
import {
  type CorrelatorOptions,
  type CorrelatorRecordResult,
  type CorrelatorSummary,
  createCorrelatorRuntime,
  TransientCorrelationError,
  takeStoredReturn,
} from "../runtime/correlator-runtime.ts";
import { once } from "../runtime/lambda-basics.ts";

export {
  type CorrelatorSummary,
  RETURNS_PREFIX,
  TransientCorrelationError,
} from "../runtime/correlator-runtime.ts";

/**
 * The correlator Lambda, invoked by S3 for each message the SES receipt rule stores under
 * returns/: the core's return intake on the DynamoDB stores. Bad mail is a counted rejection and
 * the invocation succeeds. S3 notifications have no partial-batch response: when S3 or DynamoDB
 * fails for a record, the invocation throws after the other records, and Lambda's retries run
 * the event again; records already done are then duplicates, which record nothing.
 */
export function createCorrelatorHandler(options: CorrelatorOptions = {}) {
  const runtime = once(() => createCorrelatorRuntime(options));
  return async (event: unknown, context?: Context): Promise<CorrelatorSummary> => {
    const { Records } = parseS3Event(event);
    const rt = await runtime();
    rt.useLambdaContext(context);
    const metrics = new ScoutMetrics();
    const summary: CorrelatorSummary = { records: Records.length };
    const count = (key: "events" | "eventsFailed" | CorrelatorRecordResult, by = 1) => {
      if (by > 0) summary[key] = (summary[key] ?? 0) + by;
    };
    const failures: { key: string; error: string }[] = [];
    try {
      for (const record of Records) {
        const key = decodeS3EventKey(record.s3.object.key);
        try {
          const result = await takeStoredReturn(rt, metrics, record, key);
          count(result.kind);
          if ("events" in result) {
            count("events", result.events);
            count("eventsFailed", result.eventsRefused ? 1 : 0);
          }
        } catch (error) {
          failures.push({ key, error: describeError(error) });
          rt.log.error("cannot process a stored message; the event will be retried", {
            key,
            error: describeError(error),
          });
        }
      }
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
