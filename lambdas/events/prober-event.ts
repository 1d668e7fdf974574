import type { Shard } from "../../core/cycle/shards.ts";
import { integer, isoTime, object, type ShapeOf, string } from "./event-shape.ts";
import { EventShapeError, parseEvent } from "./event-shape-error.ts";
import { parseScheduledEvent } from "./scheduled-event.ts";

/**
 * What a schedule rule of a sharded prober sends (the stack's constant input per shard, with the
 * tick's time and event id filled in by EventBridge): which shard of how many to run. Every shard
 * of one tick carries the same `id`, which ties their runs together in the logs.
 */
export const proberShardEventShape = object({
  shard: integer({ min: 0 }),
  shards: integer({ min: 1 }),
  time: isoTime({ error: "must be an ISO 8601 UTC time" }),
  id: string({ minLength: 1 }),
});

export type ProberShardEvent = ShapeOf<typeof proberShardEventShape>;

/** One scheduled run of the prober. */
export interface ProberInvocation {
  /** The schedule's tick (the EventBridge event's time). */
  readonly scheduledAt: string;
  /** The EventBridge event's id. */
  readonly eventId: string;
  /** Absent for a plain Scheduled Event: the run watches every target. */
  readonly shard?: Shard;
}

const SHARD_EVENT = "a prober shard event ({shard, shards, time, id})";

/** A Scheduled Event (one run of every target) or a shard's event; anything else is an EventShapeError. */
export function parseProberEvent(event: unknown): ProberInvocation {
  if (typeof event === "object" && event !== null && "shard" in event) {
    const { shard, shards, time, id } = parseEvent(proberShardEventShape, event, SHARD_EVENT);
    if (shard >= shards) throw new EventShapeError(SHARD_EVENT, [`shard: must be below shards (${shards})`]);
    return { scheduledAt: time, eventId: id, shard: { index: shard, count: shards } };
  }
  const scheduled = parseScheduledEvent(event);
  return { scheduledAt: scheduled.time, eventId: scheduled.id };
}
