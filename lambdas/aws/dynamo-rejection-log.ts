import { randomBytes } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Clock } from "../../core/ports/clock.ts";
import { MAX_REJECTION_DETAIL, type ProbeStore, type RejectReason } from "../../core/ports/probe-store.ts";
import { queryItems } from "./dynamo-query.ts";
import {
  checkRetentionDays,
  expiresAtSeconds,
  paddedMs,
  type ResultsTableOptions,
  rejectionPk,
} from "./results-table.ts";

const DAY_MS = 86_400_000;

/**
 * The rejection log behind DynamoProbeStore, in RESULTS_TABLE: one item per rejection under
 * "reject#<UTC day>" (layout in results-table.ts). Counting reads the day partitions from
 * `sinceMs` (or the retention horizon, whichever is later: older items are expiring anyway)
 * to today.
 */
export class DynamoRejectionLog implements Pick<ProbeStore, "countRejection" | "rejectionCounts"> {
  private readonly retentionDays: number;

  constructor(private readonly options: ResultsTableOptions & { readonly clock: Clock }) {
    this.retentionDays = checkRetentionDays(options.retentionDays);
  }

  async countRejection(reason: RejectReason, detail: string, atMs: number): Promise<void> {
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.table,
        Item: {
          pk: rejectionPk(atMs),
          // Random suffix: many rejections may share a millisecond.
          sk: `${paddedMs(atMs)}#${randomBytes(6).toString("hex")}`,
          reason,
          detail: detail.slice(0, MAX_REJECTION_DETAIL),
          atMs,
          expiresAt: expiresAtSeconds(atMs, this.retentionDays),
        },
      }),
    );
  }

  async rejectionCounts(sinceMs: number): Promise<Partial<Record<RejectReason, number>>> {
    const nowMs = this.options.clock.now();
    const fromMs = Math.max(sinceMs, nowMs - this.retentionDays * DAY_MS);
    const counts: Partial<Record<RejectReason, number>> = {};
    // Up to tomorrow: a rejection may be dated a little ahead of this clock.
    for (let dayMs = startOfDay(fromMs); dayMs <= nowMs + DAY_MS; dayMs += DAY_MS) {
      const items = await queryItems(this.options.doc, {
        TableName: this.options.table,
        KeyConditionExpression: "pk = :pk AND sk >= :from",
        ExpressionAttributeValues: { ":pk": rejectionPk(dayMs), ":from": paddedMs(Math.max(fromMs, dayMs)) },
        ProjectionExpression: "#reason",
        ExpressionAttributeNames: { "#reason": "reason" },
      });
      for (const item of items) {
        const reason = item.reason as RejectReason;
        counts[reason] = (counts[reason] ?? 0) + 1;
      }
    }
    return counts;
  }
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
