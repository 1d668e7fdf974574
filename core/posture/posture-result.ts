import { worseStatus } from "../checks/reasons.ts";
import type { Status } from "../model/status.ts";
import { POSTURE_REASON_ORDER, POSTURE_REASONS, type PostureReason } from "./posture-reasons.ts";

/** The mail DNS posture checks, each over one domain. */
export type PostureCheckName =
  | "mx"
  | "spf"
  | "dmarc"
  | "mta-sts"
  | "tls-rpt"
  | "reverse-dns"
  | "dnsbl"
  | "dane";

/** One thing a posture check found: a problem with its status, or OK. */
export interface PostureFinding {
  readonly status: Status;
  readonly reason: PostureReason;
  readonly message: string;
}

/**
 * What one posture check found out, shaped like a service check's result: a status, the
 * reason and message shown first, every finding, and the facts it read (per check).
 */
export interface PostureResult<Facts extends object = object> {
  readonly check: PostureCheckName;
  readonly domain: string;
  readonly status: Status;
  readonly reason: PostureReason;
  readonly message: string;
  readonly findings: readonly PostureFinding[];
  readonly facts: Facts;
  /**
   * What the check saw as a whole: its message when no finding is shown, kept so that a result
   * whose findings are all ignored (targets[].posture.ignore) still says something.
   */
  readonly summary?: string;
  /** The resolver asked, "host:port". */
  readonly resolver: string;
  readonly startedAt: string;
  readonly totalMs: number;
}

const SEVERITY: Record<Status, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };
const RANK = new Map<PostureReason, number>(POSTURE_REASON_ORDER.map((reason, index) => [reason, index]));

/** A finding with the reason's usual status, unless the check graded it. */
export const finding = (reason: PostureReason, message: string, status?: Status): PostureFinding => ({
  status: status ?? POSTURE_REASONS[reason].status,
  reason,
  message,
});

/** Worst status first, then the reason order. */
export const compareFindings = (a: PostureFinding, b: PostureFinding): number =>
  SEVERITY[b.status] - SEVERITY[a.status] || (RANK.get(a.reason) ?? 0) - (RANK.get(b.reason) ?? 0);

const worstOf = (findings: readonly PostureFinding[]): Status =>
  findings.reduce<Status>((worst, f) => worseStatus(worst, f.status), "OK");

/**
 * The result without the findings of the `ignored` reasons (a domain deliberately at p=none, a
 * backup MX nobody watches): status, reason and message from the findings kept, and the message
 * saying how many were ignored.
 */
export function withoutIgnored(result: PostureResult, ignored: ReadonlySet<PostureReason>): PostureResult {
  const kept = result.findings.filter((found) => !ignored.has(found.reason));
  const dropped = result.findings.filter((found) => ignored.has(found.reason));
  if (dropped.length === 0) return result;
  const first = kept[0];
  const reasons = [...new Set(dropped.map((found) => found.reason))].join(", ");
  const note = `${dropped.length} ${dropped.length === 1 ? "finding" : "findings"} ignored (${reasons})`;
  const shown = first?.message ?? result.summary ?? "";
  return {
    ...result,
    status: worstOf(kept),
    reason: first?.reason ?? "ok",
    message: shown === "" ? note : `${shown}; ${note}`,
    findings: kept,
  };
}

/** The result of a check from its findings: status the worst, reason and message the first shown. */
export function postureResult<Facts extends object>(input: {
  check: PostureCheckName;
  domain: string;
  resolver: string;
  started: number;
  findings: PostureFinding[];
  facts: Facts;
  okMessage: string;
}): PostureResult<Facts> {
  const findings = [...input.findings].sort(compareFindings);
  const first = findings[0];
  return {
    check: input.check,
    domain: input.domain,
    status: worstOf(findings),
    reason: first?.reason ?? "ok",
    message: first?.message ?? input.okMessage,
    findings,
    facts: input.facts,
    summary: input.okMessage,
    resolver: input.resolver,
    startedAt: new Date(input.started).toISOString(),
    totalMs: Date.now() - input.started,
  };
}

/**
 * The start of a posture check: its findings list, and `done` to turn them and its facts into
 * the result, timed from this call.
 */
export function postureRun<Facts extends object>(
  check: PostureCheckName,
  domain: string,
  resolver: { readonly server: string },
  facts: Facts,
): { findings: PostureFinding[]; done: (okMessage?: string) => PostureResult<Facts> } {
  const started = Date.now();
  const findings: PostureFinding[] = [];
  const done = (okMessage = "") =>
    postureResult({ check, domain, resolver: resolver.server, started, findings, facts, okMessage });
  return { findings, done };
}
