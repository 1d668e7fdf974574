import type { Context } from "aws-lambda";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import { deliverRecord, type RecordResult } from "../runtime/deliver-record.ts";
import { once } from "../runtime/lambda-basics.ts";
import { NotifierMetrics } from "../runtime/notifier-metrics.ts";
import { createNotifierRuntime, type NotifierOptions } from "../runtime/notifier-runtime.ts";
import { releaseBudget } from "../runtime/release-parked.ts";
import { parseSqsEvent, type SqsBatchResponse } from "../runtime/sqs-event.ts";

/**
 * Deliveries in flight at once within one batch. The event source's batch size (10) is the
 * usual bound; this one holds should the batch size grow.
 */
export const DELIVERY_CONCURRENCY = 10;

/**
 * The notifier Lambda, fed by the events queue (batches of 10, ReportBatchItemFailures): one
 * signed POST per message, each message being one event for one endpoint (SqsEventSink fans out
 * when it publishes). A failing endpoint is held as a whole (held-endpoint.ts): its messages are
 * parked in the webhook holds table, but for one probe kept in the queue, hidden until the hold
 * ends; the probe's answer releases them in queued order. Messages to retry are reported as
 * batch item failures; those that cannot be delivered are moved to the events dead-letter queue
 * and reported as done. See docs/webhooks.md, "On AWS".
 */
export function createNotifierHandler(options: NotifierOptions = {}) {
  const runtime = once(() => createNotifierRuntime(options));
  return async (event: unknown, context?: Context): Promise<SqsBatchResponse> => {
    const { Records } = parseSqsEvent(event);
    const rt = await runtime();
    rt.useLambdaContext(context);
    const metrics = new NotifierMetrics();
    const budget = releaseBudget(context);
    let results: RecordResult[];
    try {
      results = await mapBounded(Records, DELIVERY_CONCURRENCY, (record) =>
        deliverRecord(rt, metrics, record, budget),
      );
    } finally {
      metrics.flush();
    }
    const counts: Record<string, number> = { records: Records.length };
    for (const result of results) counts[result.kind] = (counts[result.kind] ?? 0) + 1;
    rt.log.info("notifier run done", counts);
    return {
      batchItemFailures: Records.flatMap((record, index) =>
        results[index]?.kind === "retry-later" ? [{ itemIdentifier: record.messageId }] : [],
      ),
    };
  };
}

/** The Lambda entry point (NOTIFIER handler "notifier.handler"). */
export const handler = createNotifierHandler();
