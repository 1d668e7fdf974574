import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/*
 * The layout of RESULTS_TABLE (partition key `pk`, sort key `sk`, both strings; TTL attribute
 * `expiresAt`, epoch seconds; no secondary index). Each kind of item has its own partition
 * prefix, so one Query answers each question the ports ask:
 *
 *   kind            pk                              sk                                   other attributes
 *   check history   "check#<targetId>#<endpoint>"   "<startedAtMs, 15 digits>#<unique>"  targetId, endpoint, startedAtMs, status, reason, resultJson
 *   latest check    "latest"                        "<targetId>#<endpoint>"              the same as check history
 *   rejection       "reject#<yyyy-mm-dd UTC>"       "<atMs, 15 digits>#<unique>"         reason, detail (<= 500 chars), atMs
 *   status          "status"                        "<targetId>#<subject>"               the TrackedStatus fields
 *
 * Target ids cannot contain "#" (the config allows letters, digits, . _ -), so "<targetId>#"
 * never runs into another target's keys; endpoints and subjects are stored as attributes too,
 * so keys are never parsed back. Times are zero-padded so string order is time order. The
 * check result travels as JSON text: it round-trips exactly, whatever it holds.
 *
 * "latest" and "status" are one partition each: a handful of writes per target and cycle,
 * far below a partition's 1,000 writes a second. Rejections are spread by day; a flood of
 * forged mail fills one day's partition, which costs throughput on that day only.
 */

/** What each store in RESULTS_TABLE is built with. */
export interface ResultsTableOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly table: string;
  /** Days an item is kept after its last change; see checkRetentionDays. */
  readonly retentionDays: number;
}

/** Milliseconds since the epoch, 15 digits: string order is number order until the year 33658. */
export function paddedMs(ms: number): string {
  return String(Math.trunc(ms)).padStart(15, "0");
}

/** The TTL value for an item that may go `retentionDays` after `fromMs`. */
export function expiresAtSeconds(fromMs: number, retentionDays: number): number {
  return Math.ceil(fromMs / 1000) + Math.round(retentionDays * 86_400);
}

export const LATEST_CHECKS_PK = "latest";
export const STATUS_PK = "status";

export function checkHistoryPk(targetId: string, endpoint: string): string {
  return `check#${targetId}#${endpoint}`;
}

export function rejectionPk(atMs: number): string {
  return `reject#${new Date(atMs).toISOString().slice(0, 10)}`;
}

/** Every retention setting must be a positive number of days: a TTL in the past deletes at once. */
export function checkRetentionDays(retentionDays: number): number {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
    throw new RangeError(`retentionDays must be a positive number of days, not ${retentionDays}`);
  }
  return retentionDays;
}
