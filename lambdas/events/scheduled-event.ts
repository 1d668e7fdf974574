import { z } from "zod";
import { parseEvent } from "./event-shape-error.ts";

/**
 * The event an EventBridge rule with a schedule expression sends (detail-type "Scheduled
 * Event", source "aws.events"). Fields AWS may add later are allowed and ignored; the ones the
 * prober relies on are checked, so a rule sending a custom input fails loudly, not oddly.
 */
export const scheduledEventSchema = z.object({
  version: z.string(),
  id: z.string().min(1),
  "detail-type": z.literal("Scheduled Event", {
    error:
      'must be "Scheduled Event": the prober runs from an EventBridge schedule rule with no custom input',
  }),
  source: z.literal("aws.events"),
  account: z.string().regex(/^\d{12}$/, { error: "must be a 12-digit account id" }),
  time: z.iso.datetime({ error: "must be an ISO 8601 UTC time" }),
  region: z.string().min(1),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown()),
});

export type ScheduledEvent = z.infer<typeof scheduledEventSchema>;

export function parseScheduledEvent(event: unknown): ScheduledEvent {
  return parseEvent(scheduledEventSchema, event, "an EventBridge Scheduled Event");
}
