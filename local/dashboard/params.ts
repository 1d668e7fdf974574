import { z } from "zod";
import { RANGE_NAMES } from "./ranges.ts";

/** Same shape as the probe ids the token module issues: 16-32 characters of [A-Za-z0-9_-]. */
const PROBE_ID = /^[A-Za-z0-9_-]{16,32}$/;
/** Same shape as target ids in the config schema. */
const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const targetIdSchema = z.string().regex(TARGET_ID, {
  error: "must be a target id: 1-64 characters of letters, digits, . _ -",
});
export const probeIdSchema = z.string().regex(PROBE_ID, {
  error: "must be a probe id: 16-32 characters of letters, digits, _ -",
});

const range = z.enum(RANGE_NAMES, { error: `must be one of ${RANGE_NAMES.join(", ")}` }).default("1h");

export const roundTripQuerySchema = z.strictObject({ range });
export const checksQuerySchema = z.strictObject({
  range,
  endpoint: z.string().min(1).max(512, { error: "is too long (at most 512 characters)" }).optional(),
});
export const noQuerySchema = z.strictObject({});

/** A bad request parameter; the message names it. */
export class BadParameterError extends Error {
  override readonly name = "BadParameterError";
}

/**
 * Parses a value with a schema; on failure the error names the parameter, e.g.
 * `range: must be one of 1h, 24h, 7d` or `colour: unknown parameter`.
 */
export function parseParam<T>(schema: z.ZodType<T>, value: unknown, name?: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new BadParameterError(`${issue.keys.join(", ")}: unknown parameter`);
  }
  const where = name ?? issue?.path.join(".") ?? "request";
  throw new BadParameterError(`${where}: ${issue?.message ?? "invalid"}`);
}

/** The query string as a plain object; a repeated key is a mistake worth naming. */
export function queryObject(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of search.keys()) {
    const values = search.getAll(key);
    if (values.length > 1) throw new BadParameterError(`${key}: given ${values.length} times, give it once`);
    out[key] = values[0] as string;
  }
  return out;
}
