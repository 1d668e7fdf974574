import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import type { Clock } from "../../core/ports/clock.ts";
import { systemClock } from "../../core/ports/clock.ts";
import type {
  NewProbe,
  ProbeOutcome,
  ProbeRecord,
  ProbeState,
  ProbeStore,
  RejectReason,
} from "../../core/ports/probe-store.ts";
import { isConditionalCheckFailed } from "./dynamo-errors.ts";
import { queryItems } from "./dynamo-query.ts";
import { DynamoRejectionLog } from "./dynamo-rejection-log.ts";
import { checkRetentionDays, expiresAtSeconds } from "./results-table.ts";

/*
 * PROBES_TABLE: one item per probe, key `probeId`. Besides the ProbeRecord fields it carries
 * `openState` = "sent" while (and only while) the probe is sent: the sparse GSI openByDeadline
 * (openState, deadlineMs) then holds exactly the open probes, so "overdue" is one Query. Every
 * transition REMOVEs it in the same conditional UpdateItem that changes `state`. GSI byTarget
 * (targetId, sentAtMs) answers "recent". `expiresAt` (TTL, epoch seconds) is set from the
 * retention at creation and moved on at every transition.
 *
 * `unannounced` = "pending" marks an outcome whose roundtrip.completed is not known to be
 * queued: every transition and recordSendFailed SETs it in the same conditional write that
 * stores the outcome (recordSent does not: a sent probe has no outcome yet), and
 * markOutcomesAnnounced REMOVEs it only if the probe is still in the state announced. The
 * sparse GSI unannouncedByTime (unannounced, updatedAtMs) then holds exactly the pending
 * outcomes, oldest first. Items written before the attribute existed have none: announced.
 */

export const OPEN_BY_DEADLINE_INDEX = "openByDeadline";
export const BY_TARGET_INDEX = "byTarget";
export const UNANNOUNCED_BY_TIME_INDEX = "unannouncedByTime";
const OPEN = "sent";
const PENDING = "pending";
/** UpdateItem calls in flight at once when marking outcomes announced. */
const MARK_CONCURRENCY = 8;

/** Optional outcome fields, written only when given, so a later transition keeps earlier facts. */
const OUTCOME_FIELDS = [
  "returnedAtMs",
  "rttMs",
  "remoteArrivedAtMs",
  "remoteClockOffsetMs",
  "remoteClockSkewed",
  "hops",
  "verdicts",
  "bounce",
  "folder",
  "error",
] as const satisfies readonly (keyof ProbeOutcome)[];

export interface DynamoProbeStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly probesTable: string;
  /** RESULTS_TABLE, where rejections are counted. */
  readonly resultsTable: string;
  /** Days a probe (and a rejection) is kept after its last change. */
  readonly retentionDays: number;
  /** Only for rejectionCounts: which days to read. */
  readonly clock?: Clock;
}

/**
 * ProbeStore on DynamoDB; see the comment above for the item layout. Rejections are counted in
 * RESULTS_TABLE by a DynamoRejectionLog.
 */
export class DynamoProbeStore implements ProbeStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionDays: number;
  private readonly rejections: DynamoRejectionLog;

  constructor(options: DynamoProbeStoreOptions) {
    this.doc = options.doc;
    this.table = options.probesTable;
    this.retentionDays = checkRetentionDays(options.retentionDays);
    this.rejections = new DynamoRejectionLog({
      doc: options.doc,
      table: options.resultsTable,
      retentionDays: options.retentionDays,
      clock: options.clock ?? systemClock,
    });
  }

  async recordSent(probe: NewProbe): Promise<void> {
    await this.insertNew(probe, { state: "sent", openState: OPEN, updatedAtMs: probe.sentAtMs });
  }

  async recordSendFailed(probe: NewProbe, error: string, atMs: number): Promise<void> {
    await this.insertNew(probe, { state: "send-failed", updatedAtMs: atMs, error, unannounced: PENDING });
  }

  async transition(
    probeId: string,
    from: readonly ProbeState[],
    to: ProbeState,
    outcome: ProbeOutcome,
    atMs: number,
  ): Promise<ProbeRecord | undefined> {
    // "IN ()" is not an expression DynamoDB accepts; no state to move from means no change.
    if (from.length === 0) return undefined;
    const values: Record<string, unknown> = {
      ":to": to,
      ":at": atMs,
      ":expires": expiresAtSeconds(atMs, this.retentionDays),
      ":pending": PENDING,
    };
    // A new outcome is unannounced until markOutcomesAnnounced says otherwise.
    const sets = ["#state = :to", "updatedAtMs = :at", "expiresAt = :expires", "unannounced = :pending"];
    // Every name aliased: DynamoDB reserves some of them ("error", "state").
    const names: Record<string, string> = { "#state": "state" };
    for (const field of OUTCOME_FIELDS) {
      if (outcome[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = outcome[field];
    }
    from.forEach((state, index) => {
      values[`:from${index}`] = state;
    });
    // The sparse index must hold exactly the probes in state "sent".
    if (to === OPEN) {
      sets.push("openState = :open");
      values[":open"] = OPEN;
    }
    const fromList = from.map((_, index) => `:from${index}`).join(", ");
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { probeId },
          UpdateExpression: `SET ${sets.join(", ")}${to === OPEN ? "" : " REMOVE openState"}`,
          ConditionExpression: `attribute_exists(probeId) AND #state IN (${fromList})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return result.Attributes === undefined ? undefined : toRecord(result.Attributes);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async get(probeId: string): Promise<ProbeRecord | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { probeId }, ConsistentRead: true }),
    );
    return result.Item === undefined ? undefined : toRecord(result.Item);
  }

  /**
   * From the sparse index, which is eventually consistent: a probe that has just changed may
   * still be listed. The sweep's conditional transition then simply finds it no longer "sent".
   */
  async overdue(nowMs: number, limit: number): Promise<ProbeRecord[]> {
    const items = await queryItems(
      this.doc,
      {
        TableName: this.table,
        IndexName: OPEN_BY_DEADLINE_INDEX,
        KeyConditionExpression: "openState = :open AND deadlineMs < :now",
        ExpressionAttributeValues: { ":open": OPEN, ":now": nowMs },
        ScanIndexForward: true,
      },
      limit,
    );
    return items.map(toRecord);
  }

  async recent(targetId: string, sinceMs: number, limit: number): Promise<ProbeRecord[]> {
    const items = await queryItems(
      this.doc,
      {
        TableName: this.table,
        IndexName: BY_TARGET_INDEX,
        KeyConditionExpression: "targetId = :target AND sentAtMs >= :since",
        ExpressionAttributeValues: { ":target": targetId, ":since": sinceMs },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map(toRecord);
  }

  /**
   * From the sparse index unannouncedByTime, which is eventually consistent: for a moment after
   * a write (usually well under a second) an outcome just written may be missing, and one just
   * marked, or since moved on, may still be listed as it was. The caller loses nothing: a
   * missing outcome is listed by a later call; one listed again is announced again under the
   * same event id (built from the probe and its state), which consumers drop as a duplicate;
   * marking a stale state is refused, so the newer outcome stays pending.
   */
  async unannouncedOutcomes(limit: number): Promise<ProbeRecord[]> {
    const items = await queryItems(
      this.doc,
      {
        TableName: this.table,
        IndexName: UNANNOUNCED_BY_TIME_INDEX,
        KeyConditionExpression: "unannounced = :pending",
        ExpressionAttributeValues: { ":pending": PENDING },
        ScanIndexForward: true,
      },
      limit,
    );
    return items.map(toRecord);
  }

  /**
   * One conditional UpdateItem per probe, at most MARK_CONCURRENCY at once. When some fail,
   * the others are still marked and the first error is thrown: the unmarked stay pending and
   * are announced again, which loses nothing.
   */
  async markOutcomesAnnounced(probes: readonly Pick<ProbeRecord, "probeId" | "state">[]): Promise<void> {
    const errors = await mapBounded(probes, MARK_CONCURRENCY, async ({ probeId, state }) => {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { probeId },
            UpdateExpression: "REMOVE unannounced",
            // Also false for an unknown probe, so no empty item is ever created.
            ConditionExpression: "#state = :state",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: { ":state": state },
          }),
        );
        return undefined;
      } catch (error) {
        // The probe has moved on (lost -> late): its new outcome stays pending.
        return isConditionalCheckFailed(error) ? undefined : error;
      }
    });
    const failed = errors.find((error) => error !== undefined);
    if (failed !== undefined) throw failed;
  }

  countRejection(reason: RejectReason, detail: string, atMs: number): Promise<void> {
    return this.rejections.countRejection(reason, detail, atMs);
  }

  rejectionCounts(sinceMs: number): Promise<Partial<Record<RejectReason, number>>> {
    return this.rejections.rejectionCounts(sinceMs);
  }

  private async insertNew(probe: NewProbe, state: Record<string, unknown>): Promise<void> {
    const { probeId, targetId, toAddress, messageId, sentAtMs, deadlineMs } = probe;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            probeId,
            targetId,
            toAddress,
            messageId,
            sentAtMs,
            deadlineMs,
            ...state,
            // A probe still waiting must outlive its deadline by the whole retention.
            expiresAt: expiresAtSeconds(Math.max(sentAtMs, deadlineMs), this.retentionDays),
          },
          ConditionExpression: "attribute_not_exists(probeId)",
        }),
      );
    } catch (cause) {
      if (isConditionalCheckFailed(cause)) throw new Error(`probe ${probeId} is already recorded`, { cause });
      throw cause;
    }
  }
}

/** The item without the table's own bookkeeping (openState, unannounced, expiresAt). */
function toRecord(item: Record<string, unknown>): ProbeRecord {
  const record: Record<string, unknown> = {
    probeId: item.probeId,
    targetId: item.targetId,
    toAddress: item.toAddress,
    messageId: item.messageId,
    sentAtMs: item.sentAtMs,
    deadlineMs: item.deadlineMs,
    state: item.state,
    updatedAtMs: item.updatedAtMs,
  };
  for (const field of OUTCOME_FIELDS) {
    if (item[field] !== undefined) record[field] = item[field];
  }
  return record as unknown as ProbeRecord;
}
