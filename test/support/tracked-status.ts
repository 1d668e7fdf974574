import type { TrackedStatus, UnannouncedChange } from "../../core/ports/status-store.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

/** mx1's SMTP endpoint, settled OK since 2026-06-01T00:00Z with no candidate; `overrides` change the rest. */
export function trackedStatus(overrides: Partial<TrackedStatus> = {}): TrackedStatus {
  return {
    targetId: "mx1",
    subject: "smtp://mx1.example.com",
    status: "OK",
    reason: "ok",
    sinceMs: T0,
    pendingCount: 0,
    updatedAtMs: T0,
    ...overrides,
  };
}

/** mx1's SMTP endpoint just confirmed CRITICAL, its status.changed event not queued yet. */
export function unannouncedCritical(): TrackedStatus {
  const change: UnannouncedChange = {
    eventId: "evt_01JX0000000000000000000000",
    eventAtMs: T0 + 60_005,
    from: "OK",
    to: "CRITICAL",
    reason: "refused",
    previousReason: "ok",
    sinceMs: T0 + 60_000,
    confirmations: 2,
  };
  return trackedStatus({
    status: "CRITICAL",
    reason: "refused",
    sinceMs: T0 + 60_000,
    updatedAtMs: T0 + 60_000,
    unannounced: [change, { ...change, eventId: "evt_01JX0000000000000000000001", to: "WARNING" }],
  });
}
