import { compareCodeUnits } from "../../core/basics/code-unit-order.ts";
import { percentile } from "../../core/basics/percentiles.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { ScoutConfig, TargetConfig } from "../../core/config/schema.ts";
import {
  type RoundTripThresholds,
  roundTripStatus,
  roundTripThresholdsOf,
} from "../../core/events/roundtrip-status.ts";
import { ROUND_TRIP_SUBJECT } from "../../core/events/status-changed.ts";
import type { Status } from "../../core/model/status.ts";
import type { CheckStore } from "../../core/ports/check-store.ts";
import type { ProbeRecord, ProbeState, ProbeStore } from "../../core/ports/probe-store.ts";
import type { StatusStore, TrackedStatus } from "../../core/ports/status-store.ts";
import { isPostureSubject } from "../../core/posture/posture-check-result.ts";
import type { ReceiverVerdicts } from "../../core/verdicts/receiver-verdicts.ts";

/** Probes read per target for the summary window; a week of one-minute probes fits. */
const MAX_SUMMARY_PROBES = 20_000;

/** One line of the board: an endpoint of a target, a posture check of its domain, or its round trip. */
export interface BoardRow {
  readonly subject: string;
  readonly kind: "endpoint" | "posture" | "roundtrip";
  readonly status: Status;
  readonly reason: string;
  /** "tracked": the flap-controlled status; "latest": derived from the newest result (nothing tracked yet). */
  readonly source: "tracked" | "latest";
  /** Since when the tracked status holds. */
  readonly sinceMs?: number;
  /** A different status seen but not yet confirmed (flap control). */
  readonly pending?: { readonly status: Status; readonly reason?: string; readonly count: number };
  readonly protocol?: string;
  readonly lastCheckAtMs?: number;
  readonly responseMs?: number;
  readonly certificateDaysLeft?: number;
  /** Posture rows: the domain checked and what the newest result says. */
  readonly domain?: string;
  readonly message?: string;
  readonly lastProbe?: {
    readonly probeId: string;
    readonly state: ProbeState;
    readonly sentAtMs: number;
    readonly rttMs?: number;
  };
  /** The receiver's verdicts on the newest probe that was delivered and read (returned, late). */
  readonly lastVerdicts?: {
    readonly probeId: string;
    readonly sentAtMs: number;
    readonly verdicts: ReceiverVerdicts;
  };
}

export interface RoundTripSummary {
  readonly probes: number;
  readonly p50Ms?: number;
  readonly p95Ms?: number;
  readonly returned: number;
  readonly late: number;
  readonly lost: number;
  readonly bounced: number;
  readonly sendFailed: number;
}

export interface BoardTarget {
  readonly id: string;
  readonly customer?: string;
  readonly rows: BoardRow[];
  /** Over the board's window; present for targets with a probe. */
  readonly roundTrip?: RoundTripSummary;
}

/** What /api/status returns and `email-scout status` prints. */
export interface Board {
  readonly generatedAtMs: number;
  readonly windowHours: number;
  readonly targets: BoardTarget[];
  /** Rejected returns in the window, by reason. */
  readonly rejections: Record<string, number>;
}

export interface BoardSources {
  readonly config: ScoutConfig;
  readonly store: ProbeStore & CheckStore;
  readonly statuses: Pick<StatusStore, "listStatuses">;
}

/** The newest result of every endpoint, as CheckStore.latestCheckResults hands them out. */
export type LatestCheckResults = Awaited<ReturnType<CheckStore["latestCheckResults"]>>;

export interface BoardOptions {
  /** The window of the round-trip summary (default 24). */
  readonly windowHours?: number;
  /** The latest check results when the caller has read them already (/metrics needs them too). */
  readonly latest?: LatestCheckResults;
}

/** Builds the board: every configured target and endpoint, in config order. */
export async function buildBoard(
  sources: BoardSources,
  nowMs: number,
  { windowHours = 24, latest: readAlready }: BoardOptions = {},
): Promise<Board> {
  const sinceMs = nowMs - windowHours * 3_600_000;
  const [latest, tracked, rejections] = await Promise.all([
    readAlready ?? sources.store.latestCheckResults(),
    sources.statuses.listStatuses(),
    sources.store.rejectionCounts(sinceMs),
  ]);
  const trackedBy = new Map(tracked.map((status) => [`${status.targetId}\n${status.subject}`, status]));
  const latestBy = new Map(latest.map(({ targetId, result }) => [`${targetId}\n${result.endpoint}`, result]));
  const targets = await Promise.all(
    sources.config.targets.map(async (target): Promise<BoardTarget> => {
      const rows = target.endpoints.map((endpoint) =>
        endpointRow(
          endpoint.url,
          latestBy.get(`${target.id}\n${endpoint.url}`),
          trackedBy.get(`${target.id}\n${endpoint.url}`),
        ),
      );
      if (target.domain !== undefined) rows.push(...postureRows(target.id, target.domain, latest, trackedBy));
      if (!target.probe) return { id: target.id, ...customerOf(target), rows };
      const probes = await sources.store.recent(target.id, sinceMs, MAX_SUMMARY_PROBES);
      rows.push(
        roundTripRow(
          probes,
          trackedBy.get(`${target.id}\n${ROUND_TRIP_SUBJECT}`),
          roundTripThresholdsOf(sources.config.roundTrip, target.probe),
        ),
      );
      return { id: target.id, ...customerOf(target), rows, roundTrip: summarise(probes) };
    }),
  );
  return { generatedAtMs: nowMs, windowHours, targets, rejections: { ...rejections } };
}

function customerOf(target: TargetConfig): { customer?: string } {
  return target.customer ? { customer: target.customer } : {};
}

function fromTracked(tracked: TrackedStatus | undefined): Partial<BoardRow> | undefined {
  if (!tracked) return undefined;
  return {
    status: tracked.status,
    reason: tracked.reason,
    source: "tracked",
    sinceMs: tracked.sinceMs,
    ...(tracked.pendingStatus && tracked.pendingStatus !== tracked.status
      ? {
          pending: {
            status: tracked.pendingStatus,
            ...(tracked.pendingReason ? { reason: tracked.pendingReason } : {}),
            count: tracked.pendingCount,
          },
        }
      : {}),
  };
}

function endpointRow(
  url: string,
  result: CheckResult | undefined,
  tracked: TrackedStatus | undefined,
): BoardRow {
  const facts = result
    ? {
        protocol: result.protocol,
        lastCheckAtMs: Date.parse(result.startedAt),
        responseMs: result.responseMs,
        ...(result.tls?.certificate ? { certificateDaysLeft: result.tls.certificate.daysLeft } : {}),
      }
    : {};
  const state = fromTracked(tracked) ?? {
    status: result?.status ?? "UNKNOWN",
    reason: result?.reason ?? "no-check-yet",
    source: "latest" as const,
  };
  return { subject: url, kind: "endpoint", ...state, ...facts } as BoardRow;
}

/**
 * A row per posture check the store knows for the target (whatever checks checkPosture runs), in
 * name order; before the first run, one "posture" row saying so.
 */
function postureRows(
  targetId: string,
  domain: string,
  latest: LatestCheckResults,
  trackedBy: ReadonlyMap<string, TrackedStatus>,
): BoardRow[] {
  const results = latest
    .filter((entry) => entry.targetId === targetId && isPostureSubject(entry.result.endpoint))
    .map((entry) => entry.result)
    .sort((a, b) => compareCodeUnits(a.endpoint, b.endpoint));
  if (results.length === 0) {
    return [
      {
        subject: "posture",
        kind: "posture",
        status: "UNKNOWN",
        reason: "no-check-yet",
        source: "latest",
        domain,
      },
    ];
  }
  return results.map((result) => ({
    ...endpointRow(result.endpoint, result, trackedBy.get(`${targetId}\n${result.endpoint}`)),
    kind: "posture",
    domain: result.posture?.domain ?? domain,
    message: result.message,
  }));
}

function roundTripRow(
  probes: ProbeRecord[],
  tracked: TrackedStatus | undefined,
  thresholds: RoundTripThresholds,
): BoardRow {
  const last = probes[0];
  const lastProbe = last
    ? {
        lastProbe: {
          probeId: last.probeId,
          state: last.state,
          sentAtMs: last.sentAtMs,
          ...(last.rttMs !== undefined ? { rttMs: last.rttMs } : {}),
        },
      }
    : {};
  const judged = probes.find((probe) => probe.verdicts !== undefined);
  const lastVerdicts =
    judged?.verdicts === undefined
      ? {}
      : { lastVerdicts: { probeId: judged.probeId, sentAtMs: judged.sentAtMs, verdicts: judged.verdicts } };
  // A probe still in flight says nothing yet: judge by the newest one that has an outcome.
  const decided = probes.find((probe) => probe.state !== "sent");
  const state = fromTracked(tracked) ?? { ...judgeProbe(decided, thresholds), source: "latest" as const };
  return {
    subject: ROUND_TRIP_SUBJECT,
    kind: "roundtrip",
    ...state,
    ...lastProbe,
    ...lastVerdicts,
  } as BoardRow;
}

/** The status a single probe outcome implies, for targets whose round trip is not tracked yet. */
export function judgeProbe(
  probe: ProbeRecord | undefined,
  thresholds: RoundTripThresholds,
): { status: Status; reason: string } {
  if (!probe) return { status: "UNKNOWN", reason: "no-probe-yet" };
  if (probe.state === "sent") return { status: "UNKNOWN", reason: "in-flight" };
  return roundTripStatus(probe, thresholds);
}

/** p50/p95 over returned probes (late ones have missed their deadline: they are counted apart). */
export function summarise(probes: readonly ProbeRecord[]): RoundTripSummary {
  const rtts = probes.flatMap((p) => (p.state === "returned" && p.rttMs !== undefined ? [p.rttMs] : []));
  const count = (state: ProbeState) => probes.filter((p) => p.state === state).length;
  const p50Ms = percentile(rtts, 50);
  const p95Ms = percentile(rtts, 95);
  return {
    probes: probes.length,
    ...(p50Ms !== undefined ? { p50Ms } : {}),
    ...(p95Ms !== undefined ? { p95Ms } : {}),
    returned: count("returned"),
    late: count("late"),
    lost: count("lost"),
    bounced: count("bounced"),
    sendFailed: count("send-failed"),
  };
}
