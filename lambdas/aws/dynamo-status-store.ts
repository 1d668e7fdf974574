import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { compareCodeUnits } from "../../core/basics/code-unit-order.ts";
import { asUnannouncedChanges } from "../../core/events/unannounced-changes.ts";
import { STATUSES, type Status } from "../../core/model/status.ts";
import {
  atRevision,
  revisionOf,
  type StatusStore,
  type TrackedStatus,
  type UnannouncedChange,
} from "../../core/ports/status-store.ts";
import { isConditionalCheckFailed } from "./dynamo-errors.ts";
import { queryItems } from "./dynamo-query.ts";
import {
  checkRetentionDays,
  expiresAtSeconds,
  type ResultsTableOptions,
  STATUS_PK,
} from "./results-table.ts";

/**
 * StatusStore in RESULTS_TABLE: pk "status", sk "<targetId>#<subject>" (layout in
 * results-table.ts). The tracker writes with replaceStatus, conditional on the revision it read;
 * putStatus (tools, fixtures) is conditional on not being older than the stored status, so it
 * never rolls one back. A status expires `retentionDays` after its last update: a subject no
 * longer in the config fades away.
 */
export class DynamoStatusStore implements StatusStore {
  private readonly retentionDays: number;

  constructor(private readonly options: ResultsTableOptions) {
    this.retentionDays = checkRetentionDays(options.retentionDays);
  }

  async getStatus(targetId: string, subject: string): Promise<TrackedStatus | undefined> {
    const result = await this.options.doc.send(
      new GetCommand({
        TableName: this.options.table,
        Key: { pk: STATUS_PK, sk: `${targetId}#${subject}` },
        ConsistentRead: true,
      }),
    );
    return result.Item === undefined ? undefined : toStatus(result.Item);
  }

  async putStatus(status: TrackedStatus): Promise<void> {
    try {
      await this.put(status, {
        ConditionExpression: "attribute_not_exists(pk) OR updatedAtMs <= :updated",
        ExpressionAttributeValues: { ":updated": status.updatedAtMs },
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Puts `status` only if the stored item is still the one read before: none (`read` undefined)
   * or the one last updated at `read.updatedAtMs`. False when another writer came in between.
   */
  async replaceStatus(status: TrackedStatus, read: TrackedStatus | undefined): Promise<boolean> {
    const readRevision = revisionOf(read);
    try {
      await this.put(
        atRevision(status, readRevision + 1),
        read === undefined
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : {
              // An item written before revisions were kept has none: that is revision 0.
              ConditionExpression:
                readRevision === 0
                  ? "attribute_exists(pk) AND (attribute_not_exists(revision) OR revision = :read)"
                  : "revision = :read",
              ExpressionAttributeValues: { ":read": readRevision },
            },
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async put(
    status: TrackedStatus,
    condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
  ): Promise<void> {
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.table,
        Item: {
          pk: STATUS_PK,
          sk: `${status.targetId}#${status.subject}`,
          targetId: status.targetId,
          subject: status.subject,
          status: status.status,
          reason: status.reason,
          sinceMs: status.sinceMs,
          pendingStatus: status.pendingStatus,
          pendingReason: status.pendingReason,
          pendingCount: status.pendingCount,
          updatedAtMs: status.updatedAtMs,
          // Absent when empty (removeUndefinedValues), as SQLite keeps NULL.
          unannounced: status.unannounced?.length ? status.unannounced : undefined,
          revision: status.revision,
          expiresAt: expiresAtSeconds(status.updatedAtMs, this.retentionDays),
        },
        ...condition,
      }),
    );
  }

  /** Every status, read strongly consistent when `consistent` (a snapshot to work from). */
  async listStatuses(options: { readonly consistent?: boolean } = {}): Promise<TrackedStatus[]> {
    const items = await queryItems(this.options.doc, {
      TableName: this.options.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": STATUS_PK },
      ...(options.consistent ? { ConsistentRead: true } : {}),
    });
    return items
      .map(toStatus)
      .sort((a, b) => compareCodeUnits(a.targetId, b.targetId) || compareCodeUnits(a.subject, b.subject));
  }
}

function toStatus(item: Record<string, unknown>): TrackedStatus {
  return {
    targetId: item.targetId as string,
    subject: item.subject as string,
    status: asStatus(item.status),
    reason: item.reason as string,
    sinceMs: item.sinceMs as number,
    ...(item.pendingStatus !== undefined && { pendingStatus: asStatus(item.pendingStatus) }),
    ...(item.pendingReason !== undefined && { pendingReason: item.pendingReason as string }),
    pendingCount: item.pendingCount as number,
    updatedAtMs: item.updatedAtMs as number,
    ...(item.unannounced !== undefined && { unannounced: unannouncedOf(item) }),
    ...(typeof item.revision === "number" && item.revision !== 0 && { revision: item.revision }),
  };
}

function unannouncedOf(item: Record<string, unknown>): UnannouncedChange[] {
  const changes = asUnannouncedChanges(item.unannounced);
  if (changes === undefined) {
    throw new Error(
      `status item ${String(item.sk)} holds unreadable unannounced changes; remove its "unannounced" attribute (those status.changed events are then not sent)`,
    );
  }
  return changes;
}

function asStatus(value: unknown): Status {
  if (typeof value === "string" && (STATUSES as readonly string[]).includes(value)) return value as Status;
  throw new Error(`status item holds ${JSON.stringify(value)}, not one of ${STATUSES.join(", ")}`);
}
