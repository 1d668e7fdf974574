import { setTimeout as delay } from "node:timers/promises";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { mapBounded } from "../../core/basics/map-bounded.ts";

/** DynamoDB takes at most 25 put or delete requests in one BatchWriteItem call. */
export const BATCH_WRITE_LIMIT = 25;

/** How often, and how patiently, items DynamoDB left unprocessed are sent again. */
export interface BatchRetry {
  /** Calls per batch in all, the first included (default 8). */
  readonly attempts?: number;
  /** The wait before the first resend; it doubles each time, with jitter (default 50 ms). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** One item to put, and the caller's index of what it belongs to (several items may share one). */
export interface BatchPut {
  readonly entry: number;
  readonly item: Record<string, unknown>;
}

/** Why an item was not stored. */
export interface BatchFailure {
  readonly entry: number;
  readonly error: Error;
}

/**
 * Puts `puts` into `table` in BatchWriteItem calls of 25 with at most `concurrency` calls in
 * flight. DynamoDB may leave part of a batch unprocessed (throughput, partition limits): those
 * items are sent again with exponential backoff, as AWS advises, up to `retry.attempts` calls.
 * Items must have distinct keys (pk, sk): a batch naming one key twice is rejected whole.
 * Resolves with what could not be stored; never rejects.
 */
export async function writeBatches(
  doc: DynamoDBDocumentClient,
  table: string,
  puts: readonly BatchPut[],
  options: { readonly concurrency: number; readonly retry?: BatchRetry },
): Promise<BatchFailure[]> {
  const batches: BatchPut[][] = [];
  for (let first = 0; first < puts.length; first += BATCH_WRITE_LIMIT) {
    batches.push(puts.slice(first, first + BATCH_WRITE_LIMIT));
  }
  const failures = await mapBounded(batches, options.concurrency, (batch) =>
    writeOneBatch(doc, table, batch, options.retry ?? {}),
  );
  return failures.flat();
}

async function writeOneBatch(
  doc: DynamoDBDocumentClient,
  table: string,
  batch: readonly BatchPut[],
  retry: BatchRetry,
): Promise<BatchFailure[]> {
  const attempts = retry.attempts ?? 8;
  const baseDelayMs = retry.baseDelayMs ?? 50;
  const maxDelayMs = retry.maxDelayMs ?? 2000;
  const byKey = new Map(batch.map((put) => [keyOf(put.item), put]));
  let pending: readonly BatchPut[] = batch;
  for (let attempt = 1; ; attempt++) {
    let unprocessed: Record<string, unknown>[];
    try {
      const answer = await doc.send(
        new BatchWriteCommand({
          RequestItems: { [table]: pending.map((put) => ({ PutRequest: { Item: put.item } })) },
        }),
      );
      unprocessed = (answer.UnprocessedItems?.[table] ?? []).flatMap((request) =>
        request.PutRequest?.Item === undefined ? [] : [request.PutRequest.Item],
      );
    } catch (cause) {
      // The SDK has already retried throttling and network errors: the whole batch failed.
      const error = cause instanceof Error ? cause : new Error(String(cause));
      return pending.map((put) => ({ entry: put.entry, error }));
    }
    pending = unprocessed.flatMap((item) => {
      const put = byKey.get(keyOf(item));
      return put === undefined ? [] : [put];
    });
    if (pending.length === 0) return [];
    if (attempt >= attempts) {
      const error = new Error(
        `DynamoDB left ${pending.length} item(s) of a batch write to ${table} unprocessed after ${attempts} attempts (throughput exceeded?)`,
      );
      return pending.map((put) => ({ entry: put.entry, error }));
    }
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    await delay(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

function keyOf(item: Record<string, unknown>): string {
  return `${String(item.pk)}\u0000${String(item.sk)}`;
}
