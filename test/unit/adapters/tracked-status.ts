import type { TrackedStatus } from "../../../lambdas/ports/status-store.ts";

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
