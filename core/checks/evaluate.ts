import type { Status } from "../model/status.ts";
import type { CheckFailure } from "./errors.ts";
import { type RelayTestResult, relayProblem } from "./open-relay.ts";
import { compareReasons, REASONS, type Reason, worseStatus } from "./reasons.ts";
import type { TlsFacts } from "./tls-facts.ts";

export interface Thresholds {
  /** Response time (ms, greeting through login) at or above which the check is WARNING / CRITICAL. */
  readonly warningMs?: number;
  readonly criticalMs?: number;
  /** Certificate days left at or below which the check is WARNING / CRITICAL. */
  readonly certWarningDays: number;
  readonly certCriticalDays: number;
  /** A regular expression some line of the greeting must match (`m` flag: see bannerMatches). */
  readonly expectBanner?: string;
  /** When false, an untrusted chain or a name mismatch is reported but changes no status. */
  readonly verifyTls: boolean;
}

/**
 * 21 days: Let's Encrypt renews at 30 days left, so 21 leaves nine days of failed renewals
 * before anyone is bothered, and a week of warning before the critical threshold.
 */
export const DEFAULT_THRESHOLDS: Thresholds = { certWarningDays: 21, certCriticalDays: 7, verifyTls: true };

export interface Problem {
  readonly status: Status;
  readonly reason: Reason;
  readonly message: string;
}

export interface Verdict {
  readonly status: Status;
  readonly reason: Reason;
  readonly message: string;
  readonly problems: Problem[];
}

export interface Observed {
  readonly banner?: string;
  readonly tls?: TlsFacts;
  readonly responseMs: number;
  /** The open relay test, when it was asked for and got its answer. */
  readonly relayTest?: RelayTestResult;
}

/**
 * Turns what a check saw into one Nagios status and a primary reason. A failed dialogue,
 * certificate, banner and speed findings are all problems; the status is the worst of them,
 * and the problems are listed in the order of reasons.ts's REASON_ORDER within each status,
 * worst first: the first one is the primary reason.
 */
export function evaluate(
  observed: Observed,
  failure: CheckFailure | undefined,
  thresholds: Thresholds,
  now = Date.now(),
): Verdict {
  const problems: Problem[] = [];
  if (failure)
    problems.push({
      status: REASONS[failure.reason].status,
      reason: failure.reason,
      message: failure.message,
    });
  if (observed.tls) problems.push(...certificateProblems(observed.tls, thresholds, now));
  // The relay answer holds even when a later phase (a login) failed.
  const relay = observed.relayTest ? relayProblem(observed.relayTest) : undefined;
  if (relay) problems.push(relay);
  if (!failure && thresholds.expectBanner !== undefined && observed.banner !== undefined) {
    if (!bannerMatches(thresholds.expectBanner, observed.banner)) {
      problems.push({
        status: "WARNING",
        reason: "banner-mismatch",
        message: `no line of the greeting "${observed.banner.slice(0, 120)}" matches /${thresholds.expectBanner}/m`,
      });
    }
  }
  if (!failure) {
    const slow = speedProblem(observed.responseMs, thresholds);
    if (slow) problems.push(slow);
  }
  if (problems.length === 0)
    return { status: "OK", reason: "ok", message: "every phase answered as expected", problems };

  const status = problems.reduce<Status>((worst, problem) => worseStatus(worst, problem.status), "OK");
  problems.sort(compareReasons);
  const primary = problems[0];
  return { status, reason: primary?.reason ?? "internal-error", message: primary?.message ?? "", problems };
}

/**
 * The pattern is searched in the whole greeting, its lines joined with "\n", with the `m` flag:
 * `^` and `$` anchor at every line, so `^220 ` finds the last line of Exim's three-line `220-`
 * greeting and `ESMTP` finds the product on whichever line names it. A pattern may still span
 * lines with an explicit `\n`. Matching the first line alone would miss what multi-line
 * greetings put on later lines.
 */
export function bannerMatches(pattern: string, banner: string): boolean {
  return new RegExp(pattern, "m").test(banner);
}

function certificateProblems(tls: TlsFacts, thresholds: Thresholds, now: number): Problem[] {
  const cert = tls.certificate;
  const problems: Problem[] = [];
  if (cert) {
    if (Date.parse(cert.notAfter) <= now) {
      problems.push({
        status: "CRITICAL",
        reason: "cert-expired",
        message: `certificate expired on ${cert.notAfter}`,
      });
    } else if (Date.parse(cert.notBefore) > now) {
      problems.push({
        status: "CRITICAL",
        reason: "cert-not-yet-valid",
        message: `certificate is valid only from ${cert.notBefore}`,
      });
    }
  }
  if (thresholds.verifyTls && !tls.chainTrusted) {
    problems.push({
      status: "CRITICAL",
      reason: "cert-untrusted",
      message: `certificate chain not trusted (${tls.verifyError ?? "unknown error"}); give the issuing CA with --ca-file if it is private`,
    });
  }
  if (thresholds.verifyTls && !tls.hostnameMatch) {
    problems.push({
      status: "CRITICAL",
      reason: "cert-hostname-mismatch",
      message: tls.hostnameError ?? `certificate does not name ${tls.checkedName}`,
    });
  }
  if (cert && Date.parse(cert.notAfter) > now) {
    const days = cert.daysLeft;
    if (days <= thresholds.certCriticalDays) {
      problems.push({
        status: "CRITICAL",
        reason: "cert-expiring",
        message: `certificate expires in ${days} days (critical at ${thresholds.certCriticalDays})`,
      });
    } else if (days <= thresholds.certWarningDays) {
      problems.push({
        status: "WARNING",
        reason: "cert-expiring",
        message: `certificate expires in ${days} days (warning at ${thresholds.certWarningDays})`,
      });
    }
  }
  return problems;
}

function speedProblem(responseMs: number, thresholds: Thresholds): Problem | undefined {
  const seconds = (responseMs / 1000).toFixed(3);
  if (thresholds.criticalMs !== undefined && responseMs >= thresholds.criticalMs) {
    return {
      status: "CRITICAL",
      reason: "slow",
      message: `response took ${seconds} s (critical at ${thresholds.criticalMs / 1000} s)`,
    };
  }
  if (thresholds.warningMs !== undefined && responseMs >= thresholds.warningMs) {
    return {
      status: "WARNING",
      reason: "slow",
      message: `response took ${seconds} s (warning at ${thresholds.warningMs / 1000} s)`,
    };
  }
  return undefined;
}
