import type { Status } from "../model/status.ts";
import type { ScoutEvent } from "./event.ts";
import type { StatusTransition } from "./flap-control.ts";
import { type EnvelopeInput, isoTime, makeEvent } from "./make-event.ts";
import type { StatusAnnouncement } from "./status-tracker.ts";

/** The subject of a target's mail flow, next to its endpoints (which are named by URL). */
export const ROUND_TRIP_SUBJECT = "roundtrip";

export type StatusChangedData = {
  readonly subject: string;
  readonly from: Status;
  readonly to: Status;
  readonly reason: string;
  readonly previousReason: string;
  readonly since: string;
  readonly confirmations: number;
  /** True when the subject is back to OK. */
  readonly recovered: boolean;
};

export type StatusChangedEvent = ScoutEvent<"status.changed", StatusChangedData>;

/** A confirmed status change of one subject as an event. */
export function statusChangedEvent(
  input: Omit<EnvelopeInput, "targetId"> & { readonly transition: StatusTransition },
): StatusChangedEvent {
  const { transition } = input;
  return makeEvent(
    "status.changed",
    { ...input, targetId: transition.targetId },
    {
      subject: transition.subject,
      from: transition.from,
      to: transition.to,
      reason: transition.reason,
      previousReason: transition.previousReason,
      since: isoTime(transition.sinceMs),
      confirmations: transition.confirmations,
      recovered: transition.to === "OK",
    },
  );
}

/** The tracker's announcements as status.changed events, with the ids and times they were given. */
export function announcementEvents(
  customer: string,
  announcements: readonly StatusAnnouncement[],
): StatusChangedEvent[] {
  return announcements.map((announcement) =>
    statusChangedEvent({
      customer,
      now: announcement.eventAtMs,
      id: announcement.eventId,
      transition: announcement.transition,
    }),
  );
}
