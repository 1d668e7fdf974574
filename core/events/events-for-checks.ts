import type { CheckResult } from "../checks/result.ts";
import { isPostureSubject } from "../posture/posture-check-result.ts";
import { certificateExpiringEvent, certificateReminderStatus } from "./certificate-expiring.ts";
import { checkCompletedEvent } from "./check-completed.ts";
import type { ScoutEvent } from "./event.ts";
import { newEventId } from "./event-id.ts";
import { announcementEvents } from "./status-changed.ts";
import { type StatusTracker, trackedEventIds } from "./status-tracker.ts";

export interface CheckCycleInput {
  readonly tracker: StatusTracker;
  readonly targetId: string;
  readonly customer: string;
  /** Results in a row a service check's new status needs (the target's confirmAfter). */
  readonly confirmAfter: number;
  /** The same for a posture check (`posture:*`, posture.confirmAfter); confirmAfter when absent. */
  readonly postureConfirmAfter?: number;
  /** One cycle's results for this target, in the order they finished. */
  readonly results: readonly CheckResult[];
  readonly now: number;
}

/**
 * The events one cycle's check results of a target give: for each result its
 * check.completed, then the status.changed it confirms (if any), then a certificate.expiring
 * reminder when the certificate's days left are at or below the endpoint's certWarningDays
 * (at most one per endpoint per UTC day). Updates the tracked statuses as it goes; the
 * status.changed events are the tracker's announcements, to be settled once published (when
 * this throws, the ones already offered are released here).
 */
export async function eventsForCheckResults(input: CheckCycleInput): Promise<ScoutEvent[]> {
  const events: ScoutEvent[] = [];
  try {
    for (const result of input.results) await addResultEvents(input, result, events);
  } catch (error) {
    // The failure that stopped the build is the one to report; a give-back failing as well
    // (the same store down) costs that day's certificate reminder at most.
    await input.tracker.settle(trackedEventIds(events), false).catch(() => undefined);
    throw error;
  }
  return events;
}

/** Appends one result's events to `events` as they are made, so a failure midway can release them. */
async function addResultEvents(
  input: CheckCycleInput,
  result: CheckResult,
  events: ScoutEvent[],
): Promise<void> {
  const { tracker, targetId, customer, now } = input;
  events.push(checkCompletedEvent({ targetId, customer, now, result }));
  const atMs = resultTimeMs(result, now);
  const observation = {
    targetId,
    subject: result.endpoint,
    status: result.status,
    reason: result.reason,
    atMs,
    confirmAfter: isPostureSubject(result.endpoint)
      ? (input.postureConfirmAfter ?? input.confirmAfter)
      : input.confirmAfter,
  };
  events.push(...announcementEvents(customer, await tracker.observe(observation, now)));

  const certificate = result.tls?.certificate;
  const { certWarningDays, certCriticalDays } = result.thresholds;
  if (certificate === undefined || certificate.daysLeft > certWarningDays) return;
  const status = certificateReminderStatus(certificate.daysLeft, certCriticalDays);
  const id = newEventId(now);
  if (
    await tracker.claimCertificateReminder({ targetId, endpoint: result.endpoint, status, atMs, eventId: id })
  ) {
    events.push(
      certificateExpiringEvent({
        id,
        targetId,
        customer,
        now,
        endpoint: result.endpoint,
        certificate,
        warningDays: certWarningDays,
        criticalDays: certCriticalDays,
      }),
    );
  }
}

/** When the check started; a result without a readable start counts as taken now. */
function resultTimeMs(result: CheckResult, now: number): number {
  const ms = Date.parse(result.startedAt);
  return Number.isNaN(ms) ? now : ms;
}
