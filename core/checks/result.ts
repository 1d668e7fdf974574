import type { Status } from "../model/status.ts";
import type { PostureReason } from "../posture/posture-reasons.ts";
import type { PostureFinding } from "../posture/posture-result.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Phase } from "./errors.ts";
import type { Problem, Thresholds } from "./evaluate.ts";
import type { RelayOutcome, RelayTestResult } from "./open-relay.ts";
import type { Reason } from "./reasons.ts";
import type { LoginMechanismName } from "./sasl/mechanism-names.ts";
import type { TlsFacts } from "./tls-facts.ts";

/** Milliseconds spent in each phase that ran (a failed phase shows the time until it failed). */
export type PhaseTimings = Partial<Record<Phase, number>>;

/** Everything one check found out. Stable field names: events and the store carry this shape. */
export interface CheckResult {
  readonly endpoint: string;
  /** "posture" and "dns" for a mail DNS posture check of the target's domain (see `posture`). */
  readonly kind: Endpoint["kind"] | "posture";
  readonly protocol: Endpoint["protocol"] | "dns";
  readonly host: string;
  readonly port: number;
  /** The IP address actually connected to. */
  readonly address?: string;
  readonly status: Status;
  readonly reason: Reason | PostureReason;
  readonly message: string;
  /** Every finding, the primary reason first (a posture check's findings for a posture check). */
  readonly problems: (Problem | PostureFinding)[];
  /** The phase that failed, when the dialogue ended early. */
  readonly failedPhase?: Phase;
  /** The server's reply that caused the failure, when there was one. */
  readonly serverReply?: string;
  readonly startedAt: string;
  /** Connect through login (DNS and the polite QUIT left out): the figure thresholds apply to. */
  readonly responseMs: number;
  /** Resolve through QUIT. */
  readonly totalMs: number;
  readonly timings: PhaseTimings;
  readonly banner?: string;
  readonly capabilities?: string[];
  readonly capabilitiesAfterTls?: string[];
  /** What became of STARTTLS on a plain-text port; absent when the dialogue ended before capabilities. */
  readonly startTls?: "used" | "not-offered" | "off" | "not-applicable";
  readonly tls?: TlsFacts;
  readonly login: "ok" | "failed" | "not-asked";
  /** How the login went (or was tried): a SASL mechanism, or IMAP-LOGIN / POP3-USER. */
  readonly authMechanism?: LoginMechanismName;
  /** The open relay test's outcome, when it was asked for and answered (refused is the good one). */
  readonly openRelay?: RelayOutcome;
  /** What the relay test asked and the reply that decided it. */
  readonly relayTest?: RelayTestResult;
  /** Whether the server answered the polite QUIT/LOGOUT. */
  readonly quit?: "ok" | "no-reply";
  readonly thresholds: Thresholds;
  /** A posture check's own facts: which check, of which domain, through which resolver. */
  readonly posture?: PostureFacts;
}

/** What a posture check adds to its result (core/posture/posture-check-result.ts builds it). */
export interface PostureFacts {
  /** The check's name (mx, spf, dmarc, ...): the subject is "posture:<check>". */
  readonly check: string;
  readonly domain: string;
  /** The resolver asked, "host:port". */
  readonly resolver: string;
  /** What the check read, per check (records, lookups, policy). */
  readonly facts: object;
}
