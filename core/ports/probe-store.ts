/**
 * Where probes and their outcomes live: SQLite in local mode, DynamoDB on AWS, memory for the
 * one-shot `email-scout probe`. Every state change is conditional on the current state, so
 * duplicate or concurrent deliveries of the same return record one result.
 */

/**
 * sent -> returned | lost | bounced; lost -> late; send-failed is final from the start.
 * A bounce after a lost is still recorded as bounced (the DSN explains the loss).
 */
export type ProbeState = "sent" | "returned" | "lost" | "late" | "bounced" | "send-failed";

import type { ReceiverVerdicts } from "../verdicts/receiver-verdicts.ts";

/** One hop of the path a probe took, from a Received header (informational). */
export interface Hop {
  /** Host that handed the message on ("from" clause), if stated. */
  readonly from?: string;
  /** Host that received it ("by" clause). */
  readonly by?: string;
  readonly with?: string;
  /** The timestamp that hop wrote, ms since epoch (that host's clock). */
  readonly atMs?: number;
}

export interface NewProbe {
  readonly probeId: string;
  readonly targetId: string;
  readonly toAddress: string;
  readonly messageId: string;
  readonly sentAtMs: number;
  /** After this, a probe still "sent" is swept to "lost". */
  readonly deadlineMs: number;
}

export interface BounceFacts {
  /** RFC 3464 Status, e.g. 5.1.1. */
  readonly status?: string;
  /** Diagnostic-Code, e.g. "smtp; 550 5.1.1 <x@y>: Recipient address rejected". */
  readonly diagnostic?: string;
  readonly action?: string;
  readonly remoteMta?: string;
}

export interface ProbeRecord extends NewProbe {
  readonly state: ProbeState;
  readonly updatedAtMs: number;
  /** When the return reached the monitor (monitor clock). */
  readonly returnedAtMs?: number;
  /** returnedAtMs - sentAtMs: the round-trip time. */
  readonly rttMs?: number;
  /** When the probe reached the remote server, by the remote clock (informational). */
  readonly remoteArrivedAtMs?: number;
  /** Apparent remote clock offset: remote arrival minus the midpoint of send and return. */
  readonly remoteClockOffsetMs?: number;
  /**
   * The remote arrival lies before the send or after the return's receipt (beyond a
   * tolerance): the remote clock is wrong, so no remoteClockOffsetMs is drawn from it.
   */
  readonly remoteClockSkewed?: boolean;
  readonly hops?: readonly Hop[];
  /** What the receiver said about the delivered probe: SPF, DKIM, DMARC, ARC and spam verdicts. */
  readonly verdicts?: ReceiverVerdicts;
  readonly bounce?: BounceFacts;
  /** Fetch mode: the folder the probe was found in (inbox or junk). */
  readonly folder?: "inbox" | "junk";
  /** Why sending failed (send-failed). */
  readonly error?: string;
}

/** Fields a transition may set. */
export type ProbeOutcome = Partial<
  Pick<
    ProbeRecord,
    | "returnedAtMs"
    | "rttMs"
    | "remoteArrivedAtMs"
    | "remoteClockOffsetMs"
    | "remoteClockSkewed"
    | "hops"
    | "verdicts"
    | "bounce"
    | "folder"
    | "error"
  >
>;

/**
 * Every probe store offers all of this: the probes, which of their outcomes are announced, and
 * the log of inbound mail that was rejected.
 *
 * Announcements: every outcome written (a transition, a send failure) starts unannounced, that
 * is, its roundtrip.completed event is not known to be queued. A crash or a refused queue before
 * the event is queued leaves it so, and the next cycle announces it again. Probes stored before
 * announcements were kept count as announced.
 */
export interface ProbeStore {
  recordSent(probe: NewProbe): Promise<void>;
  /** Records a probe that could not be sent at all; its outcome starts unannounced. */
  recordSendFailed(probe: NewProbe, error: string, atMs: number): Promise<void>;
  /**
   * Moves a probe to `to` only if its current state is one of `from`, leaving the new outcome
   * unannounced. Returns the record after the change, or undefined when nothing changed (wrong
   * state or unknown probe).
   */
  transition(
    probeId: string,
    from: readonly ProbeState[],
    to: ProbeState,
    outcome: ProbeOutcome,
    atMs: number,
  ): Promise<ProbeRecord | undefined>;
  get(probeId: string): Promise<ProbeRecord | undefined>;
  /** Probes still "sent" whose deadline is before `nowMs`. */
  overdue(nowMs: number, limit: number): Promise<ProbeRecord[]>;
  /** Probes of a target sent at or after `sinceMs`, newest first. */
  recent(targetId: string, sinceMs: number, limit: number): Promise<ProbeRecord[]>;
  /** Outcomes whose event is not known to be queued, oldest first (by updatedAtMs). */
  unannouncedOutcomes(limit: number): Promise<ProbeRecord[]>;
  /** Marks each probe's outcome announced, if the probe is still in the state it was announced in. */
  markOutcomesAnnounced(probes: readonly Pick<ProbeRecord, "probeId" | "state">[]): Promise<void>;
  /** Counts an inbound message that did not become a measurement; `detail` is cut to MAX_REJECTION_DETAIL. */
  countRejection(reason: RejectReason, detail: string, atMs: number): Promise<void>;
  /** Counts by reason since `sinceMs`. */
  rejectionCounts(sinceMs: number): Promise<Partial<Record<RejectReason, number>>>;
}

/**
 * Why an inbound message did not become a measurement. Each is counted and logged; none
 * ever changes a probe's state.
 */
export type RejectReason =
  | "malformed-mail"
  | "wrong-recipient"
  | "not-a-return"
  | "no-token"
  | "token-malformed"
  | "token-unsupported-version"
  | "token-bad-signature"
  | "token-expired"
  | "token-from-future"
  /** The token names a key of another target's ring: one target's key cannot count for another. */
  | "token-wrong-key"
  /** The token names a key that no ring holds (retired too early, or never ours). */
  | "token-unknown-key"
  | "unknown-probe"
  | "probe-mismatch"
  | "unparseable-bounce"
  /** A return with a valid token but no X-Scout-Reply: a version 1 email_return, or a forgery. */
  | "reply-missing-signature"
  /** A return whose reply signature the key did not make, or that signs other facts. */
  | "reply-bad-signature"
  | ListenerRefusal;

/**
 * Mail the local SMTP listener refused before it was spooled (never seen by correlation):
 * a recipient it does not take (550), too large (552), and 421 for a client over its
 * connection limit, past the session time limit, or sending too much rejected mail.
 */
export type ListenerRefusal =
  | "listener-wrong-recipient"
  | "listener-too-large"
  | "listener-too-many-connections"
  | "listener-session-timeout"
  | "listener-rate-limited";

/** A rejection's detail is kept to this many characters (a forged mail may carry anything). */
export const MAX_REJECTION_DETAIL = 500;
