import { randomBytes } from "node:crypto";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { CheckResult } from "../../checks/result.ts";
import type { CheckStore } from "../../ports/check-store.ts";
import { isConditionalCheckFailed } from "./dynamo-errors.ts";
import { queryItems } from "./dynamo-query.ts";
import {
  checkHistoryPk,
  checkRetentionDays,
  expiresAtSeconds,
  LATEST_CHECKS_PK,
  paddedMs,
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

  constructor(
    private readonly options: {
      readonly doc: DynamoDBDocumentClient;
      readonly table: string;
      readonly retentionDays: number;
    },
  ) {
    this.retentionDays = checkRetentionDays(options.retentionDays);
  }

  async saveCheckResult(targetId: string, result: CheckResult): Promise<void> {
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
    const { doc, table } = this.options;
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: checkHistoryPk(targetId, result.endpoint),
          sk: `${paddedMs(startedAtMs)}#${unique}`,
          ...attributes,
        },
      }),
    );
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { pk: LATEST_CHECKS_PK, sk: `${targetId}#${result.endpoint}`, ...attributes },
          ConditionExpression: "attribute_not_exists(pk) OR startedAtMs <= :started",
          ExpressionAttributeValues: { ":started": startedAtMs },
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
      .sort((a, b) => compare(a.targetId, b.targetId) || compare(a.result.endpoint, b.result.endpoint));
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

function parseResult(item: Record<string, unknown>): CheckResult {
  return JSON.parse(item.resultJson as string) as CheckResult;
}

/** Code-unit order, as the local stores order ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
