import { DEFAULT_THRESHOLDS } from "../checks/evaluate.ts";
import type { CheckResult } from "../checks/result.ts";
import type { PostureResult } from "./posture-result.ts";

/**
 * A posture check's subject under its target: "posture:" and the check's name (posture:mx,
 * posture:spf, posture:dmarc, ...). It stands where a service check's endpoint URL stands, in
 * the store, the status records, the events and the metrics; no endpoint URL has this form.
 */
export const POSTURE_SUBJECT_PREFIX = "posture:";

export const postureSubject = (check: string): string => `${POSTURE_SUBJECT_PREFIX}${check}`;

export const isPostureSubject = (subject: string): boolean => subject.startsWith(POSTURE_SUBJECT_PREFIX);

/**
 * A posture check's result as a check result, so it travels the service checks' path (store,
 * flap control, events, board, metrics) unchanged: kind "posture", protocol "dns", host the
 * domain, port the resolver's, the findings as problems, and the check's own facts under
 * `posture`. `startedAtMs` is the monitor clock's time of the run (what the schedule compares).
 */
export function postureCheckResult(result: PostureResult, startedAtMs: number): CheckResult {
  return {
    endpoint: postureSubject(result.check),
    kind: "posture",
    protocol: "dns",
    host: result.domain,
    port: resolverPort(result.resolver),
    status: result.status,
    reason: result.reason,
    message: result.message,
    problems: [...result.findings],
    startedAt: new Date(startedAtMs).toISOString(),
    responseMs: result.totalMs,
    totalMs: result.totalMs,
    timings: {},
    login: "not-asked",
    thresholds: DEFAULT_THRESHOLDS,
    posture: { check: result.check, domain: result.domain, resolver: result.resolver, facts: result.facts },
  };
}

/** The port of "host:port" or "[v6]:port"; 53 when it names none. */
function resolverPort(server: string): number {
  const port = Number(/:(\d+)$/.exec(server)?.[1]);
  return Number.isInteger(port) && port > 0 ? port : 53;
}
