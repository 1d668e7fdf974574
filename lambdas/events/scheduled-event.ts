import { anything, array, isoTime, literal, object, record, type ShapeOf, string } from "./event-shape.ts";
import { parseEvent } from "./event-shape-error.ts";

/**
 * The event an EventBridge rule with a schedule expression sends (detail-type "Scheduled
 * Event", source "aws.events"). Fields AWS may add later are allowed and ignored; the ones the
 * prober relies on are checked, so a rule sending a custom input fails loudly, not oddly.
 */
export const scheduledEventShape = object({
  version: string(),
  id: string({ minLength: 1 }),
  "detail-type": literal(
    "Scheduled Event",
    'must be "Scheduled Event": the prober runs from an EventBridge schedule rule (with no input, or a shard\'s)',
  ),
  source: literal("aws.events"),
  account: string({ pattern: /^\d{12}$/, error: "must be a 12-digit account id" }),
  time: isoTime({ error: "must be an ISO 8601 UTC time" }),
  region: string({ minLength: 1 }),
  resources: array(string()),
  detail: record(anything),
});

export type ScheduledEvent = ShapeOf<typeof scheduledEventShape>;

export function parseScheduledEvent(event: unknown): ScheduledEvent {
  return parseEvent(scheduledEventShape, event, "an EventBridge Scheduled Event");
}
