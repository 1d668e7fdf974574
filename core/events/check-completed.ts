import type { Phase } from "../checks/errors.ts";
import type { CheckResult } from "../checks/result.ts";
import type { TlsFacts } from "../checks/tls-facts.ts";
import type { Status } from "../model/status.ts";
import type { ScoutEvent } from "./event.ts";
import { type EnvelopeInput, makeEvent } from "./make-event.ts";

/** What a consumer needs to know about the TLS side of a check, without the full certificate dump. */
export interface TlsSummary {
  readonly protocol: string;
  readonly cipher: string;
  readonly hostnameMatches: boolean;
  /** The chain verifies against the trusted CAs (validity dates aside). */
  readonly trusted: boolean;
  readonly notAfter?: string;
  readonly daysLeft?: number;
  readonly subject?: string;
  readonly issuer?: string;
}

export type CheckCompletedData = {
  readonly endpoint: string;
  readonly protocol: CheckResult["protocol"];
  readonly kind: CheckResult["kind"];
  readonly host: string;
  readonly port: number;
  readonly address?: string;
  readonly status: Status;
  readonly reason: string;
  readonly message: string;
  /** Every finding, the primary reason first; the status is the worst of them. */
  readonly problems: { status: Status; reason: string; message: string }[];
  readonly failedPhase?: Phase;
  readonly startedAt: string;
  readonly responseMs: number;
  readonly totalMs: number;
  readonly timings: CheckResult["timings"];
  readonly tls?: TlsSummary;
  /** The open relay test's outcome, on endpoints that run it. */
  readonly openRelay?: CheckResult["openRelay"];
  /** A posture check's name, domain, resolver and facts (endpoint "posture:<check>"). */
  readonly posture?: CheckResult["posture"];
};

export type CheckCompletedEvent = ScoutEvent<"check.completed", CheckCompletedData>;

/** One service or posture check's result as an event. */
export function checkCompletedEvent(
  input: EnvelopeInput & { readonly result: CheckResult },
): CheckCompletedEvent {
  const { result } = input;
  return makeEvent("check.completed", input, {
    endpoint: result.endpoint,
    protocol: result.protocol,
    kind: result.kind,
    host: result.host,
    port: result.port,
    ...(result.address !== undefined && { address: result.address }),
    status: result.status,
    reason: result.reason,
    message: result.message,
    problems: result.problems.map(({ status, reason, message }) => ({ status, reason, message })),
    ...(result.failedPhase !== undefined && { failedPhase: result.failedPhase }),
    startedAt: result.startedAt,
    responseMs: result.responseMs,
    totalMs: result.totalMs,
    timings: result.timings,
    ...(result.tls !== undefined && { tls: tlsSummary(result.tls) }),
    ...(result.openRelay !== undefined && { openRelay: result.openRelay }),
    ...(result.posture !== undefined && { posture: result.posture }),
  });
}

export function tlsSummary(tls: TlsFacts): TlsSummary {
  const certificate = tls.certificate;
  return {
    protocol: tls.protocol,
    cipher: tls.cipher,
    hostnameMatches: tls.hostnameMatch,
    trusted: tls.chainTrusted,
    ...(certificate !== undefined && {
      notAfter: certificate.notAfter,
      daysLeft: certificate.daysLeft,
      subject: certificate.subject,
      issuer: certificate.issuer,
    }),
  };
}
