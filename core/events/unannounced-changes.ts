import { STATUSES } from "../model/status.ts";
import type { UnannouncedChange } from "../ports/status-store.ts";

/**
 * Unannounced status changes as a store read them back (SQLite JSON, a DynamoDB list):
 * the list when every entry has the shape the tracker wrote, undefined for anything else
 * (a hand-edited row, another program's item), for the store to report by name.
 */
export function asUnannouncedChanges(value: unknown): UnannouncedChange[] | undefined {
  return Array.isArray(value) && value.every(isUnannouncedChange) ? value : undefined;
}

function isUnannouncedChange(value: unknown): value is UnannouncedChange {
  if (typeof value !== "object" || value === null) return false;
  const change = value as Record<string, unknown>;
  return (
    typeof change.eventId === "string" &&
    typeof change.eventAtMs === "number" &&
    (STATUSES as readonly unknown[]).includes(change.from) &&
    (STATUSES as readonly unknown[]).includes(change.to) &&
    typeof change.reason === "string" &&
    typeof change.previousReason === "string" &&
    typeof change.sinceMs === "number" &&
    typeof change.confirmations === "number"
  );
}
