import { describe, expect, it } from "vitest";
import { shardOfTarget, targetsOfShard } from "../../../../core/cycle/shards.ts";

const targets = Array.from({ length: 2_000 }, (_, n) => ({
  id: `mail-${String(n).padStart(4, "0")}.example`,
}));
const ids = (list: readonly { id: string }[]) => list.map((target) => target.id);

describe("targetsOfShard", () => {
  it.each([1, 2, 3, 10])("puts every target in exactly one of %i shards, in configured order", (count) => {
    const shards = Array.from({ length: count }, (_, index) => targetsOfShard(targets, index, count));
    const all = shards.flatMap(ids);
    expect(all).toHaveLength(targets.length);
    expect(new Set(all).size).toBe(targets.length);
    for (const shard of shards) {
      const inShard = new Set(ids(shard));
      expect(ids(shard)).toEqual(ids(targets).filter((id) => inShard.has(id)));
    }
  });

  it.each([2, 3, 10])("balances 2,000 ids over %i shards within 4 standard deviations", (count) => {
    // Each id lands in a shard with probability 1/count: the sizes are binomial.
    const mean = targets.length / count;
    const tolerance = 4 * Math.sqrt(targets.length * (1 / count) * (1 - 1 / count));
    for (let index = 0; index < count; index++) {
      const size = targetsOfShard(targets, index, count).length;
      expect(Math.abs(size - mean), `shard ${index}: ${size} of ${targets.length}`).toBeLessThanOrEqual(
        tolerance,
      );
    }
  });

  it("is stable: a target's shard depends on its id alone, not on order or on the other targets", () => {
    const reversed = [...targets].reverse();
    const fewer = targets.slice(0, 500);
    for (let index = 0; index < 4; index++) {
      const inShard = new Set(ids(targetsOfShard(targets, index, 4)));
      expect(new Set(ids(targetsOfShard(reversed, index, 4)))).toEqual(inShard);
      for (const id of ids(targetsOfShard(fewer, index, 4))) expect(inShard.has(id)).toBe(true);
    }
    // Pinned: the first 4 bytes of SHA-256("mx1") are 0x22c46143 = 583295299, and 583295299 mod 10 = 9.
    expect(shardOfTarget("mx1", 10)).toBe(9);
    expect(shardOfTarget("mx1", 1)).toBe(0);
  });

  it("refuses a shard outside the count, and a count below one", () => {
    expect(() => targetsOfShard(targets, 2, 2)).toThrow("shard 2 is not one of 0 to 1");
    expect(() => targetsOfShard(targets, -1, 2)).toThrow("shard -1 is not one of 0 to 1");
    expect(() => targetsOfShard(targets, 0, 0)).toThrow(
      "the shard count must be a whole number of at least 1, not 0",
    );
    expect(() => shardOfTarget("mx1", 1.5)).toThrow(RangeError);
  });
});
