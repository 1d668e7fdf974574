import type { ParsedMail } from "mailparser";
import { describeError } from "../basics/describe-error.ts";
import type { Clock } from "../ports/clock.ts";
import type { Hop, ProbeRecord, ProbeState, ProbeStore, RejectReason } from "../ports/probe-store.ts";
import { type ReceiverVerdicts, receiverVerdicts } from "../verdicts/receiver-verdicts.ts";
import { decodeHeaderBlock } from "../wire/header-block.ts";
import { headerValue, parseMessage } from "../wire/parse-headers.ts";
import type { ProbeKey } from "../wire/probe-key.ts";
import { ProbeTokenError, parseProbeToken, type VerifiedToken } from "../wire/probe-token.ts";
import { REPLY_HEADER, ReplySignatureError, verifyReply } from "../wire/reply-signature.ts";
import {
  bounceFactsOf,
  dsnPartsOf,
  isDeliveryStatusReport,
  type RecipientStatus,
  recipientWithAction,
} from "./dsn.ts";
import { parseMime, rawHeader } from "./inbound-mime.ts";
import { hopsFromHeaderLines } from "./received-hops.ts";
import { type TargetKeyRings, verifyTokenInRings } from "./target-key-rings.ts";

/*
 * Correlation: one inbound message (a return from email_return, or a bounce) becomes at most
 * one state change of one probe. Everything about the message is judged first, without the
 * store; only then is the store read and conditionally written. Bad input of any kind is a
 * counted, logged rejection; only store failures throw (the caller keeps the message and
 * retries it).
 */

/** One message as the inbound side (SES + S3, or the local SMTP listener) received it. */
export interface InboundMail {
  raw: Buffer;
  /** When it reached the monitor, by the monitor's clock: the end of the round trip. */
  receivedAtMs: number;
  envelope: { mailFrom: string; rcptTo: string[] };
  /** Where it came from (S3 key, spool id), for logs. */
  source: string;
}

export type CorrelationOutcome =
  | { kind: "returned" | "late"; probe: ProbeRecord }
  | { kind: "bounced"; probe: ProbeRecord }
  /** A DSN saying delivery is still being retried (RFC 3464 Action: delayed). Changes nothing. */
  | { kind: "delayed"; probeId: string; status?: string }
  | { kind: "duplicate"; probeId: string; state: ProbeState }
  | { kind: "rejected"; reason: RejectReason; detail: string; probeId?: string };

export interface CorrelateDeps {
  store: ProbeStore;
  /** Each target's key ring: a token is checked with the key it names in its target's ring. */
  keys: TargetKeyRings;
  /** Where email_return sends returns, e.g. returns@scout-returns.example.com. */
  returnAddress: string;
  /** Bounces come back to bounces+<probeId>@ this domain. */
  inboundDomain: string;
  /** A return whose token is older than this (at arrival) is token-expired. */
  maxAgeMs: number;
  /** Default 10 minutes. */
  maxFutureSkewMs?: number;
  /**
   * A bounce's token may be older than maxAgeMs: MTAs retry for days before giving up
   * (Postfix maximal_queue_lifetime 5d). Default: the larger of maxAgeMs and 7 days.
   */
  maxBounceAgeMs?: number;
  clock: Clock;
  /** The authserv-ids a target's receiver stamps (core/verdicts); no verdicts are read without it. */
  trustedAuthservIds?: (targetId: string) => readonly string[];
  log?: (entry: Record<string, unknown>) => void;
}

const DEFAULT_MAX_FUTURE_SKEW_MS = 10 * 60_000;
/**
 * A remote arrival this far before the send or after the return's receipt cannot be true: the
 * remote clock is wrong, so its reading and the offset drawn from it are not shown as facts.
 */
export const REMOTE_CLOCK_TOLERANCE_MS = 10 * 60_000;
const DEFAULT_MAX_BOUNCE_AGE_MS = 7 * 24 * 3_600_000;
/** Returns and bounces of a probe are a few kB; Postfix's default message_size_limit is 10,240,000. */
export const MAX_INBOUND_BYTES = 10_240_000;
const MAX_DETAIL_CHARS = 300;
const PROBE_ID = "[A-Za-z0-9_-]{16,32}";
const BOUNCE_LOCAL_PART = new RegExp(`^bounces\\+(${PROBE_ID})$`);

type Rejection = { kind: "reject"; reason: RejectReason; detail: string; probeId?: string };

/** What the message says, judged without the store. */
type Verdict =
  | Rejection
  | {
      kind: "return";
      token: VerifiedToken;
      remoteArrivedAtMs: number;
      hops: Hop[];
      verdicts?: ReceiverVerdicts;
    }
  | { kind: "bounce"; token: VerifiedToken; recipient: RecipientStatus };

/** A token whose MAC matched, with the key that made it. */
type KeyedToken = VerifiedToken & { key: ProbeKey };

/** Correlates one inbound message with its probe; see the file comment. */
export async function correlateInbound(mail: InboundMail, deps: CorrelateDeps): Promise<CorrelationOutcome> {
  let verdict: Verdict;
  try {
    verdict = await judge(mail, deps);
  } catch (error) {
    verdict = reject("malformed-mail", `cannot parse: ${describeError(error)}`);
  }
  if (verdict.kind === "reject") return recordRejection(verdict, mail, deps);

  const { token } = verdict;
  const probe = await deps.store.get(token.probeId);
  if (probe === undefined) {
    return recordRejection(reject("unknown-probe", "no such probe", token.probeId), mail, deps);
  }
  if (probe.targetId !== token.targetId || probe.sentAtMs !== token.sentAtMs) {
    const detail = `token names target ${token.targetId} sent at ${token.sentAtMs}, the probe is ${probe.targetId} sent at ${probe.sentAtMs}`;
    return recordRejection(reject("probe-mismatch", detail, token.probeId), mail, deps);
  }

  return verdict.kind === "bounce"
    ? recordBounce(probe, verdict.recipient, mail, deps)
    : recordReturn(probe, verdict, mail, deps);
}

/** sent -> returned, or lost -> late; anything else is a duplicate. */
async function recordReturn(
  probe: ProbeRecord,
  verdict: Extract<Verdict, { kind: "return" }>,
  mail: InboundMail,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  // Both ends of the RTT are readings of the monitor's clock; the remote times are only shown.
  const rttMs = mail.receivedAtMs - probe.sentAtMs;
  const { remoteArrivedAtMs, hops, verdicts } = verdict;
  const midpointMs = probe.sentAtMs + rttMs / 2;
  const skewed =
    remoteArrivedAtMs < probe.sentAtMs - REMOTE_CLOCK_TOLERANCE_MS ||
    remoteArrivedAtMs > mail.receivedAtMs + REMOTE_CLOCK_TOLERANCE_MS;
  if (skewed) {
    deps.log?.({
      event: "remote-clock-skewed",
      probeId: probe.probeId,
      remoteArrivedAtMs,
      source: mail.source,
    });
  }
  const outcome = {
    returnedAtMs: mail.receivedAtMs,
    rttMs,
    remoteArrivedAtMs,
    // A remote clock outside [send, receipt] by more than the tolerance gives no offset.
    ...(skewed
      ? { remoteClockSkewed: true }
      : { remoteClockOffsetMs: Math.round(remoteArrivedAtMs - midpointMs) }),
    hops,
    ...(verdicts !== undefined && { verdicts }),
  };
  const { store, clock } = deps;
  const recorded =
    (await store.transition(probe.probeId, ["sent"], "returned", outcome, clock.now())) ??
    (await store.transition(probe.probeId, ["lost"], "late", outcome, clock.now()));
  if (recorded === undefined) return duplicate(probe.probeId, mail, deps);
  const kind = recorded.state === "returned" ? "returned" : "late";
  deps.log?.({ event: `probe-${kind}`, probeId: probe.probeId, rttMs, source: mail.source });
  return { kind, probe: recorded };
}

/** sent|lost -> bounced for a failure; a delay changes nothing. */
async function recordBounce(
  probe: ProbeRecord,
  recipient: RecipientStatus,
  mail: InboundMail,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  const { probeId } = probe;
  const { status } = recipient;
  if (recipient.action === "delayed") {
    deps.log?.({ event: "probe-delayed", probeId, status, source: mail.source });
    return { kind: "delayed", probeId, ...(status === undefined ? {} : { status }) };
  }
  // A bounce after "lost" is still recorded: the DSN explains the loss.
  const facts = { bounce: bounceFactsOf(recipient) };
  const bounced = await deps.store.transition(probeId, ["sent", "lost"], "bounced", facts, deps.clock.now());
  if (bounced === undefined) return duplicate(probeId, mail, deps);
  deps.log?.({ event: "probe-bounced", probeId, status, source: mail.source });
  return { kind: "bounced", probe: bounced };
}

/** Reads the envelope and the message; decides what it is. Throws only on unparseable MIME. */
async function judge(mail: InboundMail, deps: CorrelateDeps): Promise<Verdict> {
  const route = routeOf(mail.envelope.rcptTo, deps);
  if ("reason" in route) return route;
  if (mail.raw.length === 0) return reject("malformed-mail", "empty message");
  if (mail.raw.length > MAX_INBOUND_BYTES) {
    return reject("malformed-mail", `${mail.raw.length} bytes, more than ${MAX_INBOUND_BYTES}`);
  }
  const parsed = await parseMime(mail.raw);
  if (!parsed.headerLines.some((h) => /^[!-9;-~]+$/.test(h.key) && h.line.includes(":"))) {
    return reject("malformed-mail", "no header fields");
  }
  // Anything at a bounces+ address, and any DSN, is a bounce: a return never goes to either.
  if (route.bounceProbeId !== undefined || isDeliveryStatusReport(parsed)) {
    return judgeBounce(parsed, route.bounceProbeId, mail, deps);
  }
  return judgeReturn(parsed, mail, deps);
}

function judgeReturn(parsed: ParsedMail, mail: InboundMail, deps: CorrelateDeps): Verdict {
  const tokenText = rawHeader(parsed, "x-scout-probe");
  if (tokenText === undefined) return reject("no-token", "no X-Scout-Probe header");
  // RFC 3834 §5: email_return marks its replies auto-replied. A probe looping back to us is
  // auto-generated and must never count as its own return.
  const keyword = (rawHeader(parsed, "auto-submitted") ?? "").split(/[;(]/)[0]?.trim().toLowerCase() ?? "";
  if (keyword !== "auto-replied") {
    return reject(
      "not-a-return",
      `Auto-Submitted is ${keyword === "" ? "absent" : JSON.stringify(keyword)}`,
      probeIdIn(tokenText),
    );
  }
  const token = verifyToken(tokenText, mail.receivedAtMs, deps.maxAgeMs, deps);
  if ("reason" in token) return token;
  // The token is in every probe, so it proves nothing about who answered: only email_return's
  // reply signature (core/wire/reply-signature.ts) does. Version 1 returns carried none.
  const signature = rawHeader(parsed, REPLY_HEADER.toLowerCase());
  if (signature === undefined) {
    return reject("reply-missing-signature", `no ${REPLY_HEADER} header`, token.probeId);
  }
  const headerLines = (parsed.text === undefined ? undefined : decodeHeaderBlock(parsed.text)) ?? [];
  try {
    const { arrivedAtMs } = verifyReply(signature, token.key, { probeId: token.probeId, headerLines });
    // Read only once the signature vouches that these are the lines the server received.
    const trustedAuthservIds = deps.trustedAuthservIds?.(token.targetId);
    const verdicts = trustedAuthservIds && receiverVerdicts(headerLines, { trustedAuthservIds });
    const hops = hopsFromHeaderLines(headerLines);
    return { kind: "return", token, remoteArrivedAtMs: arrivedAtMs, hops, ...(verdicts && { verdicts }) };
  } catch (error) {
    if (!(error instanceof ReplySignatureError)) throw error;
    return reject("reply-bad-signature", `${error.reason}: ${error.message}`, token.probeId);
  }
}

/*
 * Forged bounces: anyone can mail bounces+<probeId>@ the inbound domain, and a DSN cannot be
 * signed (the MTA that writes it holds no key). The probe id is random (newProbeId, 96 bits), so
 * only someone who saw the probe knows it; but it is in that probe's envelope, no secret from them. So a bounce counts only when the DSN returns the
 * probe's original headers with a valid X-Scout-Probe token for that same probe; a DSN without
 * them (some MTAs send no headers at all) is rejected as unparseable-bounce, never recorded as
 * bounced: a lost probe is a truer record than a forged bounce. What is left is forgery by
 * someone who saw the probe itself, which affects that one probe, once (the write is
 * conditional). A "delayed" DSN (4.x.x, still retrying) is verified the same way but changes
 * nothing: the probe stays sent and the sweep or a later bounce or return decides it.
 */
function judgeBounce(
  parsed: ParsedMail,
  bounceProbeId: string | undefined,
  mail: InboundMail,
  deps: CorrelateDeps,
): Verdict {
  if (!isDeliveryStatusReport(parsed)) {
    return reject(
      "unparseable-bounce",
      "not a delivery status notification (multipart/report)",
      bounceProbeId,
    );
  }
  const { status, originalHeaders } = dsnPartsOf(parsed);
  if (status === undefined) {
    return reject("unparseable-bounce", "no delivery-status part with a recipient", bounceProbeId);
  }
  if (originalHeaders === undefined) {
    return reject("unparseable-bounce", "the DSN returns no original headers, so no token", bounceProbeId);
  }
  const original = parseMessage(originalHeaders);
  // A DSN about one of email_return's replies is not about the probe (which did arrive).
  if (headerValue(original.fields, "X-Scout-Return-Version") !== undefined) {
    return reject("unparseable-bounce", "the DSN is about a return, not a probe", bounceProbeId);
  }
  const tokenText = headerValue(original.fields, "X-Scout-Probe");
  if (tokenText === undefined) {
    return reject("unparseable-bounce", "the original headers carry no X-Scout-Probe token", bounceProbeId);
  }
  const maxAgeMs = deps.maxBounceAgeMs ?? Math.max(deps.maxAgeMs, DEFAULT_MAX_BOUNCE_AGE_MS);
  const token = verifyToken(tokenText, mail.receivedAtMs, maxAgeMs, deps);
  if ("reason" in token) return token;
  if (bounceProbeId !== undefined && token.probeId !== bounceProbeId) {
    return reject(
      "probe-mismatch",
      `sent to bounces+${bounceProbeId}, token is for ${token.probeId}`,
      bounceProbeId,
    );
  }
  const recipient = recipientWithAction(status, "failed") ?? recipientWithAction(status, "delayed");
  if (recipient === undefined) {
    const actions = [...new Set(status.recipients.map((r) => r.action ?? "none"))].join(", ");
    return reject(
      "unparseable-bounce",
      `no failed or delayed recipient (actions: ${actions})`,
      token.probeId,
    );
  }
  return { kind: "bounce", token, recipient };
}

/**
 * Every envelope recipient must be the return address or bounces+<probeId>@ the inbound
 * domain (the receipt rule accepts the whole domain). Domains compare case-insensitively, and
 * so does the return address's local part (it is our own mailbox); the probe id does not.
 */
function routeOf(rcptTo: readonly string[], deps: CorrelateDeps): Rejection | { bounceProbeId?: string } {
  if (rcptTo.length === 0) return reject("wrong-recipient", "no envelope recipient");
  const probeIds = new Set<string>();
  for (const recipient of rcptTo) {
    const address = recipient.trim().replace(/^<(.*)>$/, "$1");
    if (address.toLowerCase() === deps.returnAddress.toLowerCase()) continue;
    const at = address.lastIndexOf("@");
    const local = address.slice(0, at);
    const domain = address.slice(at + 1).toLowerCase();
    const id = BOUNCE_LOCAL_PART.exec(local.replace(/^bounces\+/i, "bounces+"))?.[1];
    if (at < 0 || domain !== deps.inboundDomain.toLowerCase() || id === undefined) {
      return reject("wrong-recipient", `not an address of ours: ${address}`);
    }
    probeIds.add(id);
  }
  if (probeIds.size > 1) return reject("wrong-recipient", `recipients name ${probeIds.size} probes`);
  const [bounceProbeId] = probeIds;
  return bounceProbeId === undefined ? {} : { bounceProbeId };
}

function verifyToken(
  text: string,
  nowMs: number,
  maxAgeMs: number,
  deps: CorrelateDeps,
): KeyedToken | Rejection {
  try {
    // With the key the token names, from the ring of the target it names, and no other; at
    // arrival time, not now: a message retried later (spooled, store was down) was fresh when it came.
    const maxFutureSkewMs = deps.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    return verifyTokenInRings(text, deps.keys, { nowMs, maxAgeMs, maxFutureSkewMs });
  } catch (error) {
    if (!(error instanceof ProbeTokenError)) throw error;
    return reject(`token-${error.reason}`, error.message, probeIdIn(text));
  }
}

/** The id a token claims, unverified: only for logs, so a rejection can be traced to a probe. */
function probeIdIn(tokenText: string): string | undefined {
  try {
    return parseProbeToken(tokenText).probeId;
  } catch {
    return undefined;
  }
}

/** Nothing changed: the probe had already left the states this message could move it from. */
async function duplicate(
  probeId: string,
  mail: InboundMail,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  const current = await deps.store.get(probeId);
  if (current === undefined)
    return recordRejection(reject("unknown-probe", "probe vanished", probeId), mail, deps);
  deps.log?.({ event: "inbound-duplicate", probeId, state: current.state, source: mail.source });
  return { kind: "duplicate", probeId, state: current.state };
}

async function recordRejection(
  rejection: Rejection,
  mail: InboundMail,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  const { reason, detail, probeId } = rejection;
  await deps.store.countRejection(reason, detail, deps.clock.now());
  deps.log?.({ event: "inbound-rejected", reason, detail, probeId, source: mail.source });
  return { kind: "rejected", reason, detail, ...(probeId === undefined ? {} : { probeId }) };
}

function reject(reason: RejectReason, detail: string, probeId?: string): Rejection {
  // Details quote hostile input: keep them short and printable before they reach a log or store.
  const clean = clip(detail.replace(/[^\x20-\x7e]/g, "?"), MAX_DETAIL_CHARS);
  return { kind: "reject", reason, detail: clean, ...(probeId === undefined ? {} : { probeId }) };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
