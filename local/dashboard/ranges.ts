/**
 * The time ranges the charts offer. Each range is cut into a fixed number of buckets so a
 * week costs the browser no more points than an hour.
 */
export const RANGES = {
  "1h": { spanMs: 3_600_000, bucketMs: 120_000 },
  "24h": { spanMs: 86_400_000, bucketMs: 1_800_000 },
  "7d": { spanMs: 7 * 86_400_000, bucketMs: 3 * 3_600_000 },
} as const;

export type RangeName = keyof typeof RANGES;
export const RANGE_NAMES = Object.keys(RANGES) as [RangeName, ...RangeName[]];

/** Bucket boundaries aligned to whole bucket widths, so refreshes do not shift the buckets. */
export function bucketStarts(range: RangeName, nowMs: number): { sinceMs: number; starts: number[] } {
  const { spanMs, bucketMs } = RANGES[range];
  const last = Math.floor(nowMs / bucketMs) * bucketMs;
  const count = Math.ceil(spanMs / bucketMs);
  const starts = Array.from({ length: count }, (_, index) => last - (count - 1 - index) * bucketMs);
  return { sinceMs: starts[0] as number, starts };
}

/** Groups values into the buckets by time; values before the first bucket are dropped. */
export function groupByBucket<T>(
  starts: readonly number[],
  bucketMs: number,
  items: readonly T[],
  timeOf: (item: T) => number,
): T[][] {
  const groups: T[][] = starts.map(() => []);
  const first = starts[0] ?? 0;
  for (const item of items) {
    const index = Math.floor((timeOf(item) - first) / bucketMs);
    groups[index]?.push(item);
  }
  return groups;
}
