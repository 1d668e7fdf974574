import { createHash } from "node:crypto";

/** Which part of the targets one run of the cycle watches: shard `index` of `count` (0-based). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The one shard of a run that watches every target (local mode, a prober with no shards). */
export const ALL_TARGETS: Shard = { index: 0, count: 1 };

/**
 * The shard a target belongs to: the first 4 bytes of the SHA-256 of its id, big-endian, modulo
 * the shard count. It depends on the id alone, so a target stays in its shard whatever other
 * targets come and go, and the probes of a target no longer configured still have an owner (the
 * shard that sweeps and announces them). A new shard count moves most targets: that is a new
 * deploy, whose runs all use the new count.
 */
export function shardOfTarget(targetId: string, count: number): number {
  checkShard({ index: 0, count });
  if (count === 1) return 0;
  return createHash("sha256").update(targetId, "utf8").digest().readUInt32BE(0) % count;
}

/** The targets of shard `index` of `count`, in their configured order. */
export function targetsOfShard<T extends { readonly id: string }>(
  targets: readonly T[],
  index: number,
  count: number,
): T[] {
  checkShard({ index, count });
  if (count === 1) return [...targets];
  return targets.filter((target) => shardOfTarget(target.id, count) === index);
}

/** Throws a RangeError unless `shard` is a whole index below a whole count of at least 1. */
export function checkShard(shard: Shard): void {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`the shard count must be a whole number of at least 1, not ${count}`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`shard ${index} is not one of 0 to ${count - 1}`);
  }
}
