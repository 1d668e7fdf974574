import type { ScoutConfig } from "../../core/config/schema.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { StatusStore } from "../../core/ports/status-store.ts";
import type { SqliteStore } from "../adapters/sqlite-store.ts";
import { buildBoard } from "./board.ts";
import {
  BadParameterError,
  checksQuerySchema,
  noQuerySchema,
  parseParam,
  probeIdSchema,
  queryObject,
  roundTripQuerySchema,
  targetIdSchema,
} from "./params.ts";
import { bucketStarts } from "./ranges.ts";
import { checkSeries, MAX_SERIES_ROWS, roundTripSeries } from "./series.ts";

export interface ApiContext {
  readonly config: ScoutConfig;
  readonly store: SqliteStore;
  readonly statuses: Pick<StatusStore, "listStatuses">;
  readonly clock: Clock;
}

export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
}

/** An unknown target, probe or endpoint. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

type Handler = (context: ApiContext, params: string[], query: Record<string, string>) => Promise<unknown>;

/** The read-only API, one pattern per route (documented in docs/dashboard.md). */
const ROUTES: { pattern: RegExp; handler: Handler }[] = [
  { pattern: /^\/api\/health$/, handler: health },
  { pattern: /^\/api\/status$/, handler: status },
  { pattern: /^\/api\/targets$/, handler: targets },
  { pattern: /^\/api\/targets\/([^/]+)\/roundtrip$/, handler: roundTrip },
  { pattern: /^\/api\/targets\/([^/]+)\/checks$/, handler: checks },
  { pattern: /^\/api\/probes\/([^/]+)$/, handler: probe },
];

/** Answers an /api/ request; undefined when no route matches the path. */
export async function handleApi(
  context: ApiContext,
  pathname: string,
  search: URLSearchParams,
): Promise<ApiReply | undefined> {
  for (const { pattern, handler } of ROUTES) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    try {
      const params = match.slice(1).map((segment) => decodeSegment(segment));
      return { status: 200, body: await handler(context, params, queryObject(search)) };
    } catch (error) {
      if (error instanceof BadParameterError) return { status: 400, body: { error: error.message } };
      if (error instanceof NotFoundError) return { status: 404, body: { error: error.message } };
      throw error;
    }
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadParameterError(`path: "${segment}" is not valid percent-encoding`);
  }
}

async function health(context: ApiContext, _params: string[], query: Record<string, string>) {
  parseParam(noQuerySchema, query);
  return { ok: true, nowMs: context.clock.now(), targets: context.config.targets.length };
}

async function status(context: ApiContext, _params: string[], query: Record<string, string>) {
  parseParam(noQuerySchema, query);
  return buildBoard(context, context.clock.now());
}

async function targets(context: ApiContext, _params: string[], query: Record<string, string>) {
  parseParam(noQuerySchema, query);
  return {
    targets: context.config.targets.map((target) => ({
      id: target.id,
      ...(target.customer ? { customer: target.customer } : {}),
      endpoints: target.endpoints.map((endpoint) => endpoint.url),
      roundTrip: Boolean(target.probe),
    })),
  };
}

function knownTarget(context: ApiContext, raw: string | undefined) {
  const id = parseParam(targetIdSchema, raw, "target");
  const target = context.config.targets.find((candidate) => candidate.id === id);
  if (!target) {
    const known = context.config.targets.map((candidate) => candidate.id).join(", ");
    throw new NotFoundError(`unknown target "${id}"; known targets: ${known}`);
  }
  return target;
}

async function roundTrip(context: ApiContext, params: string[], query: Record<string, string>) {
  const target = knownTarget(context, params[0]);
  const { range } = parseParam(roundTripQuerySchema, query);
  if (!target.probe) throw new NotFoundError(`target "${target.id}" has no round-trip probe configured`);
  const nowMs = context.clock.now();
  const { sinceMs } = bucketStarts(range, nowMs);
  const probes = await context.store.recent(target.id, sinceMs, MAX_SERIES_ROWS);
  return roundTripSeries(target.id, range, probes, nowMs);
}

async function checks(context: ApiContext, params: string[], query: Record<string, string>) {
  const target = knownTarget(context, params[0]);
  const { range, endpoint } = parseParam(checksQuerySchema, query);
  const urls = target.endpoints.map((candidate) => candidate.url);
  if (endpoint !== undefined && !urls.includes(endpoint)) {
    throw new NotFoundError(
      `target "${target.id}" has no endpoint "${endpoint}"; it has: ${urls.join(", ")}`,
    );
  }
  return checkSeries(context.store.db, target.id, endpoint ? [endpoint] : urls, range, context.clock.now());
}

async function probe(context: ApiContext, params: string[], query: Record<string, string>) {
  parseParam(noQuerySchema, query);
  const probeId = parseParam(probeIdSchema, params[0], "probeId");
  const record = await context.store.get(probeId);
  if (!record) throw new NotFoundError(`unknown probe "${probeId}" (never sent, or pruned by retention)`);
  return { probe: record };
}
