import type { CertificateFacts } from "../checks/tls-facts.ts";
import type { Status } from "../model/status.ts";
import type { ScoutEvent } from "./event.ts";
import { type EnvelopeInput, makeEvent } from "./make-event.ts";

export type CertificateExpiringData = {
  readonly endpoint: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notAfter: string;
  /** Whole days until notAfter, rounded down: 0 is the last day, negative means expired. */
  readonly daysLeft: number;
  readonly expired: boolean;
  /** The certWarningDays threshold that daysLeft is at or below. */
  readonly thresholdDays: number;
  /** WARNING, or CRITICAL once at or below certCriticalDays. */
  readonly status: Status;
  readonly fingerprintSha256: string;
};

export type CertificateExpiringEvent = ScoutEvent<"certificate.expiring", CertificateExpiringData>;

/** A reminder that an endpoint's certificate is near (or past) its end. */
export function certificateExpiringEvent(
  input: EnvelopeInput & {
    readonly endpoint: string;
    readonly certificate: CertificateFacts;
    readonly warningDays: number;
    readonly criticalDays: number;
  },
): CertificateExpiringEvent {
  const { certificate } = input;
  return makeEvent("certificate.expiring", input, {
    endpoint: input.endpoint,
    subject: certificate.subject,
    issuer: certificate.issuer,
    notAfter: certificate.notAfter,
    daysLeft: certificate.daysLeft,
    expired: certificate.daysLeft < 0,
    thresholdDays: input.warningDays,
    status: certificateReminderStatus(certificate.daysLeft, input.criticalDays),
    fingerprintSha256: certificate.fingerprintSha256,
  });
}

/** A reminder's severity: CRITICAL at or below certCriticalDays, WARNING above. */
export function certificateReminderStatus(daysLeft: number, criticalDays: number): Status {
  return daysLeft <= criticalDays ? "CRITICAL" : "WARNING";
}
