import type { Database } from "better-sqlite3";
import { percentile } from "../../core/basics/percentiles.ts";
import { ENDPOINT_KINDS, isEndpointKindName } from "../../core/checks/endpoint-kinds.ts";
import { worseStatus } from "../../core/checks/reasons.ts";
import type { Status } from "../../core/model/status.ts";
import type { ProbeRecord, ProbeState } from "../../core/ports/probe-store.ts";
import { type RoundTripSummary, summarise } from "./board.ts";
import { checkPoints } from "./queries.ts";
import { bucketStarts, groupByBucket, RANGES, type RangeName } from "./ranges.ts";

/** Probes read for one chart: a week of one-minute probes, with room to spare. */
export const MAX_SERIES_ROWS = 50_000;
/** Rows in the recent-probes table. */
const RECENT_PROBES = 25;

export interface RttBucket {
  readonly startMs: number;
  /** Returned probes in the bucket (late ones are shown as points, not in the percentiles). */
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

/** A probe drawn as a point: late at its RTT, lost at the deadline, bounced at the time the bounce came. */
export interface ProbeMark {
  readonly probeId: string;
  readonly state: ProbeState;
  readonly sentAtMs: number;
  readonly valueMs: number;
}

export interface RecentProbe {
  readonly probeId: string;
  readonly state: ProbeState;
  readonly sentAtMs: number;
  readonly rttMs?: number;
}

export interface RoundTripSeries {
  readonly targetId: string;
  readonly range: RangeName;
  readonly bucketMs: number;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly buckets: RttBucket[];
  readonly marks: ProbeMark[];
  readonly recent: RecentProbe[];
  /** p50/p95 and outcome counts over the whole range. */
  readonly summary: RoundTripSummary;
}

/** `probes` newest first, as the store hands them out. */
export function roundTripSeries(
  targetId: string,
  range: RangeName,
  probes: readonly ProbeRecord[],
  nowMs: number,
): RoundTripSeries {
  const { bucketMs } = RANGES[range];
  const { sinceMs, starts } = bucketStarts(range, nowMs);
  const inRange = probes.filter((probe) => probe.sentAtMs >= sinceMs);
  const returned = inRange.filter((probe) => probe.state === "returned" && probe.rttMs !== undefined);
  const buckets = groupByBucket(starts, bucketMs, returned, (probe) => probe.sentAtMs).map(
    (group, index): RttBucket => {
      const rtts = group.map((probe) => probe.rttMs as number);
      return {
        startMs: starts[index] as number,
        count: rtts.length,
        p50Ms: percentile(rtts, 50) ?? null,
        p95Ms: percentile(rtts, 95) ?? null,
      };
    },
  );
  const marks = inRange.flatMap((probe): ProbeMark[] => {
    const valueMs = markValue(probe);
    return valueMs === undefined
      ? []
      : [{ probeId: probe.probeId, state: probe.state, sentAtMs: probe.sentAtMs, valueMs }];
  });
  marks.reverse();
  const recent = inRange.slice(0, RECENT_PROBES).map((probe) => ({
    probeId: probe.probeId,
    state: probe.state,
    sentAtMs: probe.sentAtMs,
    ...(probe.rttMs !== undefined ? { rttMs: probe.rttMs } : {}),
  }));
  const summary = summarise(inRange);
  return { targetId, range, bucketMs, sinceMs, untilMs: nowMs, buckets, marks, recent, summary };
}

function markValue(probe: ProbeRecord): number | undefined {
  switch (probe.state) {
    case "late":
      return probe.rttMs;
    case "lost":
      return probe.deadlineMs - probe.sentAtMs;
    case "bounced":
      return probe.updatedAtMs - probe.sentAtMs;
    case "send-failed":
      return 0;
    default:
      return undefined;
  }
}

export interface CheckBucket {
  readonly startMs: number;
  readonly count: number;
  readonly p50Ms: number | null;
  readonly maxMs: number | null;
  /** The worst status in the bucket, null when it is empty. */
  readonly worst: Status | null;
}

export interface EndpointSeries {
  readonly endpoint: string;
  readonly protocol: string;
  readonly buckets: CheckBucket[];
}

export interface CheckSeries {
  readonly targetId: string;
  readonly range: RangeName;
  readonly bucketMs: number;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly endpoints: EndpointSeries[];
}

/** Response times (connect through login) of a target's endpoints, bucketed like the round trip. */
export function checkSeries(
  db: Database,
  targetId: string,
  endpoints: readonly string[],
  range: RangeName,
  nowMs: number,
): CheckSeries {
  const { bucketMs } = RANGES[range];
  const { sinceMs, starts } = bucketStarts(range, nowMs);
  const series = endpoints.map((endpoint): EndpointSeries => {
    const points = checkPoints(db, targetId, sinceMs, endpoint, MAX_SERIES_ROWS);
    const buckets = groupByBucket(starts, bucketMs, points, (point) => point.atMs).map(
      (group, index): CheckBucket => {
        const times = group.map((point) => point.responseMs);
        return {
          startMs: starts[index] as number,
          count: group.length,
          p50Ms: percentile(times, 50) ?? null,
          maxMs: times.length ? Math.max(...times) : null,
          worst: group.length ? group.map((point) => point.status).reduce(worseStatus) : null,
        };
      },
    );
    return { endpoint, protocol: points[0]?.protocol ?? protocolOf(endpoint), buckets };
  });
  return { targetId, range, bucketMs, sinceMs, untilMs: nowMs, endpoints: series };
}

/** smtps://... -> smtp: used when an endpoint has no result in the range yet. */
function protocolOf(url: string): string {
  const scheme = url.slice(0, url.indexOf(":"));
  return isEndpointKindName(scheme) ? ENDPOINT_KINDS[scheme].protocol : scheme;
}
