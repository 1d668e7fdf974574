import { randomBytes } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { compareCodeUnits } from "../../core/basics/code-unit-order.ts";
import { asError } from "../../core/basics/describe-error.ts";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { CheckStore, SaveCheckResultsOptions, StoredCheck } from "../../core/ports/check-store.ts";
import { type BatchPut, type BatchRetry, writeBatches } from "./dynamo-batch-write.ts";
import { isConditionalCheckFailed } from "./dynamo-errors.ts";
import { queryItems } from "./dynamo-query.ts";
import {
  checkHistoryPk,
  checkRetentionDays,
  expiresAtSeconds,
  LATEST_CHECKS_PK,
  paddedMs,
  type ResultsTableOptions,
} from "./results-table.ts";

/**
 * CheckStore in RESULTS_TABLE (layout in results-table.ts): every result goes into its
 * endpoint's history partition, and into the "latest" partition only if it is not older than
 * what is there, so results stored out of order never roll the latest view back.
 */
export class DynamoCheckStore implements CheckStore {
  private readonly retentionDays: number;
  /** Breaks ties between results of one endpoint that started in the same millisecond. */
  private sequence = 0;

  constructor(private readonly options: ResultsTableOptions) {
    this.retentionDays = checkRetentionDays(options.retentionDays);
  }

  async saveCheckResult(targetId: string, result: CheckResult): Promise<void> {
    const { history, latest } = this.itemsOf(targetId, result);
    await this.options.doc.send(new PutCommand({ TableName: this.options.table, Item: history }));
    await this.putLatest(latest);
  }

  /**
   * Stores many results at once: the history items in BatchWriteItem calls of 25, and the latest
   * items the same way while `latestUnconditionally()` is true. A batch write cannot carry a
   * condition, so the caller says when no newer result of the same endpoints can be stored yet
   * (the prober: while no later run can have started); otherwise each latest item is one
   * conditional PutItem, as in saveCheckResult. At most `concurrency` calls are in flight.
   * Returns, for each entry, the error that kept it from being stored, or undefined. A batch
   * DynamoDB refuses whole (an item over 400 KB, say) fails every entry in it.
   */
  async saveCheckResults(
    entries: readonly StoredCheck[],
    options: SaveCheckResultsOptions & { readonly retry?: BatchRetry },
  ): Promise<(Error | undefined)[]> {
    const errors = new Array<Error | undefined>(entries.length).fill(undefined);
    const items = entries.map((entry) => {
      try {
        return this.itemsOf(entry.targetId, entry.result);
      } catch (error) {
        return asError(error);
      }
    });
    const requests: BatchPut[] = [];
    const latestByKey = new Map<string, BatchPut>();
    items.forEach((built, entry) => {
      if (built instanceof Error) {
        errors[entry] = built;
        return;
      }
      requests.push({ entry, item: built.history });
      // One batch may not name a key twice: of two results of one endpoint only the newer is latest.
      const key = built.latest.sk as string;
      const seen = latestByKey.get(key)?.item;
      if (seen === undefined || (seen.startedAtMs as number) <= (built.latest.startedAtMs as number)) {
        latestByKey.set(key, { entry, item: built.latest });
      }
    });
    const latest = [...latestByKey.values()];
    const { doc, table } = this.options;
    if (options.latestUnconditionally?.() === true) requests.push(...latest);
    else {
      await mapBounded(latest, options.concurrency, async ({ entry, item }) => {
        await this.putLatest(item).catch((error: unknown) => {
          errors[entry] ??= asError(error);
        });
      });
    }
    const failures = await writeBatches(doc, table, requests, options);
    for (const { entry, error } of failures) errors[entry] ??= error;
    return errors;
  }

  private itemsOf(targetId: string, result: CheckResult): StoreItems {
    const startedAtMs = Date.parse(result.startedAt);
    if (Number.isNaN(startedAtMs))
      throw new Error(`check result of ${result.endpoint} has no valid startedAt`);
    const attributes = {
      targetId,
      endpoint: result.endpoint,
      startedAtMs,
      status: result.status,
      reason: result.reason,
      resultJson: JSON.stringify(result),
      expiresAt: expiresAtSeconds(startedAtMs, this.retentionDays),
    };
    this.sequence = (this.sequence + 1) % 1_000_000;
    const unique = `${String(this.sequence).padStart(6, "0")}${randomBytes(4).toString("hex")}`;
    return {
      history: {
        pk: checkHistoryPk(targetId, result.endpoint),
        sk: `${paddedMs(startedAtMs)}#${unique}`,
        ...attributes,
      },
      latest: { pk: LATEST_CHECKS_PK, sk: `${targetId}#${result.endpoint}`, ...attributes },
    };
  }

  /** Replaces the latest item unless a newer result is already there. */
  private async putLatest(item: Record<string, unknown>): Promise<void> {
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.table,
          Item: item,
          ConditionExpression: "attribute_not_exists(pk) OR startedAtMs <= :started",
          ExpressionAttributeValues: { ":started": item.startedAtMs },
        }),
      );
    } catch (error) {
      // A newer result is already the latest: this one stays in the history only.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async latestCheckResults(): Promise<{ targetId: string; result: CheckResult }[]> {
    const items = await queryItems(this.options.doc, {
      TableName: this.options.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": LATEST_CHECKS_PK },
    });
    return items
      .map((item) => ({ targetId: item.targetId as string, result: parseResult(item) }))
      .sort(
        (a, b) =>
          compareCodeUnits(a.targetId, b.targetId) || compareCodeUnits(a.result.endpoint, b.result.endpoint),
      );
  }

  /** One Query of the latest partition, on the sort key's prefix "<target>#<endpoint prefix>". */
  async latestCheckResultsOf(targetId: string, endpointPrefix: string): Promise<CheckResult[]> {
    const items = await queryItems(this.options.doc, {
      TableName: this.options.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": LATEST_CHECKS_PK, ":prefix": `${targetId}#${endpointPrefix}` },
      ConsistentRead: true,
    });
    return items.map(parseResult);
  }

  /** The newest `limit` results since `sinceMs`, oldest first. */
  async checkHistory(
    targetId: string,
    endpoint: string,
    sinceMs: number,
    limit: number,
  ): Promise<CheckResult[]> {
    const items = await queryItems(
      this.options.doc,
      {
        TableName: this.options.table,
        KeyConditionExpression: "pk = :pk AND sk >= :since",
        ExpressionAttributeValues: { ":pk": checkHistoryPk(targetId, endpoint), ":since": paddedMs(sinceMs) },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.reverse().map(parseResult);
  }
}

interface StoreItems {
  readonly history: Record<string, unknown>;
  readonly latest: Record<string, unknown>;
}

function parseResult(item: Record<string, unknown>): CheckResult {
  return JSON.parse(item.resultJson as string) as CheckResult;
}
