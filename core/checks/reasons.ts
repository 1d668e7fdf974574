/**
 * The fixed list of reason codes a check can end with, each with the Nagios status it
 * carries by default and a one-line explanation. The README's reason table is generated
 * from this list (`email-scout check --reasons`), so the two never drift apart.
 */
import type { Status } from "../model/status.ts";

/** Nagios exit codes (Nagios plugin guidelines): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export const EXIT_CODES: Record<Status, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** Higher is worse; UNKNOWN ranks between WARNING and CRITICAL as Nagios ranks it for hosts. */
const SEVERITY: Record<Status, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

export function worseStatus(a: Status, b: Status): Status {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export const REASONS = {
  ok: { status: "OK", text: "every phase answered as expected" },
  "dns-failed": { status: "CRITICAL", text: "the host name does not resolve (for the chosen IP family)" },
  "timeout-resolve": { status: "CRITICAL", text: "name resolution did not answer before its deadline" },
  refused: { status: "CRITICAL", text: "the TCP connection was refused (nothing listens on the port)" },
  unreachable: { status: "CRITICAL", text: "no route to the host or network" },
  "timeout-connect": {
    status: "CRITICAL",
    text: "the TCP connection was not established before its deadline",
  },
  "timeout-greeting": { status: "CRITICAL", text: "connected, but no complete greeting before its deadline" },
  "bad-greeting": {
    status: "CRITICAL",
    text: "the greeting breaks the protocol's grammar (garbage, wrong protocol, overlong line)",
  },
  "service-unavailable": {
    status: "CRITICAL",
    text: "the server refuses service: in its greeting (SMTP 421/554, IMAP BYE, POP3 -ERR) or later (BYE, 421, POP3 SYS, IMAP UNAVAILABLE)",
  },
  "connection-closed": {
    status: "CRITICAL",
    text: "the server closed the connection in the middle of the dialogue",
  },
  "timeout-reply": { status: "CRITICAL", text: "a command got no complete reply before its deadline" },
  "protocol-error": {
    status: "CRITICAL",
    text: "a reply breaks the protocol's grammar or refuses a basic command",
  },
  "no-starttls": { status: "CRITICAL", text: "STARTTLS/STLS is required but not offered" },
  "starttls-refused": {
    status: "CRITICAL",
    text: "STARTTLS/STLS is offered but the command was refused (e.g. SMTP 454)",
  },
  "timeout-tls": { status: "CRITICAL", text: "the TLS handshake did not finish before its deadline" },
  "tls-failed": {
    status: "CRITICAL",
    text: "the TLS handshake failed (reset, alert, no shared protocol or cipher)",
  },
  "cert-expired": { status: "CRITICAL", text: "the server certificate has expired" },
  "cert-not-yet-valid": { status: "CRITICAL", text: "the server certificate is not valid yet" },
  "cert-untrusted": {
    status: "CRITICAL",
    text: "the certificate chain does not verify against the trusted CAs",
  },
  "cert-hostname-mismatch": {
    status: "CRITICAL",
    text: "the certificate does not name the host that was checked",
  },
  "cert-expiring": {
    status: "WARNING",
    text: "certificate days left at or below the warning (WARNING) or critical (CRITICAL) threshold",
  },
  "auth-failed": { status: "CRITICAL", text: "the server rejected the login" },
  "auth-expired": {
    status: "CRITICAL",
    text: "the server says the credentials have expired or must be changed (IMAP EXPIRED, SMTP X.7.12)",
  },
  "auth-unavailable": {
    status: "CRITICAL",
    text: "login was asked for, but the server offers no usable way to log in (e.g. only after TLS)",
  },
  "mailbox-in-use": {
    status: "WARNING",
    text: "valid login, but the mailbox is locked by another session (POP3 IN-USE, IMAP INUSE)",
  },
  "login-delay": {
    status: "WARNING",
    text: "the account logged in again sooner than the server allows (POP3 LOGIN-DELAY)",
  },
  "over-limit": {
    status: "WARNING",
    text: "the server refused for a per-account limit: sessions, rate or quota (IMAP LIMIT, OVERQUOTA)",
  },
  "open-relay": {
    status: "CRITICAL",
    text: "the open relay test's RCPT TO to an outside domain, from an outside sender, was accepted without login",
  },
  "relay-test-inconclusive": {
    status: "WARNING",
    text: "the open relay test got no answer: RCPT TO deferred (4xx, e.g. greylisting) or MAIL FROM refused",
  },
  "banner-mismatch": { status: "WARNING", text: "the greeting does not match the expected banner pattern" },
  slow: {
    status: "WARNING",
    text: "response time at or above the warning (WARNING) or critical (CRITICAL) threshold",
  },
  "config-error": {
    status: "UNKNOWN",
    text: "the check could not run: bad endpoint URL, option or credential file",
  },
  "internal-error": {
    status: "UNKNOWN",
    text: "the check itself failed unexpectedly (a bug: please report it)",
  },
} as const satisfies Record<string, { status: Status; text: string }>;

export type Reason = keyof typeof REASONS;

/**
 * Which reason is shown first when several problems hold at once (the status is still the
 * worst of them all, and the reason shown is the first of those with that status). The rule:
 * the most specific finding an operator can act on comes first.
 * - A check that could not run, then the failure that stopped the dialogue, in the order of
 *   the phases (only one failure ever holds; the order only makes the table total). It comes
 *   before any certificate finding: what happened after it is unknown. The login refusals
 *   that still prove a working server (mailbox-in-use, login-delay, over-limit: WARNING) come
 *   last among them, after the ones that say the service is refused.
 * - open-relay: the server passes anyone's mail on; it is blocklisted within hours, so it comes
 *   before every certificate finding.
 * - cert-expired and cert-not-yet-valid: the act is plain (renew, fix the clock), and clients
 *   refuse the certificate whoever issued it.
 * - cert-hostname-mismatch: the wrong certificate is served (often a default, self-signed one,
 *   which is also untrusted: the name says more than the chain).
 * - cert-untrusted: the least specific certificate error. It is also what a stale pinned CA,
 *   a missing intermediate or a self-signed certificate look like, so a more specific finding
 *   about the same certificate goes first.
 * - cert-expiring: still works today (at its critical threshold it is CRITICAL, but ranks
 *   below certificates that clients refuse now). Then relay-test-inconclusive (the question
 *   is still open), banner-mismatch, then slow: all say the service answers.
 */
export const REASON_ORDER = [
  "config-error",
  "internal-error",
  "dns-failed",
  "timeout-resolve",
  "refused",
  "unreachable",
  "timeout-connect",
  "timeout-tls",
  "tls-failed",
  "timeout-greeting",
  "bad-greeting",
  "service-unavailable",
  "connection-closed",
  "timeout-reply",
  "protocol-error",
  "no-starttls",
  "starttls-refused",
  "auth-unavailable",
  "auth-expired",
  "auth-failed",
  "mailbox-in-use",
  "login-delay",
  "over-limit",
  "open-relay",
  "cert-expired",
  "cert-not-yet-valid",
  "cert-hostname-mismatch",
  "cert-untrusted",
  "cert-expiring",
  "relay-test-inconclusive",
  "banner-mismatch",
  "slow",
  "ok",
] as const satisfies readonly Reason[];

const RANK = new Map<Reason, number>(REASON_ORDER.map((reason, index) => [reason, index]));

/** Negative when `a` is shown before `b`: worse status first, then REASON_ORDER. */
export function compareReasons(
  a: { status: Status; reason: Reason },
  b: { status: Status; reason: Reason },
): number {
  return SEVERITY[b.status] - SEVERITY[a.status] || (RANK.get(a.reason) ?? 0) - (RANK.get(b.reason) ?? 0);
}
