import { type HeaderField, headerValue, type ParsedMessage } from "../core/wire/parse-headers.ts";
import type { ProbeKey, ProbeKeyRing } from "../core/wire/probe-key.ts";
import {
  ProbeTokenError,
  type ProbeTokenReason,
  parseProbeToken,
  type VerifiedToken,
  verifyProbeTokenWithRing,
} from "../core/wire/probe-token.ts";

/** A probe may claim a send time this far ahead of the server's clock (clocks drift). */
export const MAX_FUTURE_SKEW_MS = 10 * 60_000;

export type IgnoreReason =
  | "null-sender"
  | "mailer-daemon"
  | "list-admin-sender"
  | "auto-submitted"
  | "list-mail"
  | "bulk-precedence"
  | "not-a-probe"
  | `token-${ProbeTokenReason}`;

export type Decision =
  /** `key` is the ring's key the token names: it signs the reply too. */
  | { action: "reply"; reason: "valid-probe"; token: VerifiedToken; key: ProbeKey }
  | { action: "ignore"; reason: IgnoreReason; detail?: string; probeId?: string };

export interface DecideInput {
  fields: readonly HeaderField[];
  /** The envelope sender ("" for the null sender), or undefined when the MTA did not say. */
  envelopeSender: string | undefined;
  /** This mailbox's target's ring: a token naming any other key is ignored (token-unknown-key). */
  keys: ProbeKeyRing;
  nowMs: number;
  maxAgeMs: number;
}

/**
 * The envelope sender: Postfix and Exim pass it as $SENDER ("" for the null sender), Postfix's
 * pipe also writes it into the mbox From_ line (MAILER-DAEMON for the null sender); other
 * MTAs leave only Return-Path.
 */
export function envelopeSenderOf(
  env: Readonly<Record<string, string | undefined>>,
  message: ParsedMessage,
): string | undefined {
  const raw = env.SENDER ?? message.mboxSender ?? headerValue(message.fields, "Return-Path");
  return raw?.trim().replace(/^<(.*)>$/, "$1");
}

/**
 * Whether to answer, following RFC 3834 §2: never answer bounces, list or bulk mail, or other
 * automatic replies; answer only a message carrying a valid, fresh probe token. Pure.
 */
export function decide(input: DecideInput): Decision {
  const sender = senderProblem(input.envelopeSender);
  if (sender !== undefined) return sender;

  const autoSubmitted = headerValue(input.fields, "Auto-Submitted");
  if (autoSubmitted !== undefined) {
    // RFC 3834 §5: the keyword comes first, optional parameters follow ";" (and comments "(").
    const keyword = autoSubmitted.split(/[;(]/)[0]?.trim().toLowerCase() ?? "";
    // Probes are sent "auto-generated"; anything else (auto-replied, auto-notified...) may loop.
    if (keyword !== "no" && keyword !== "auto-generated") {
      return { action: "ignore", reason: "auto-submitted", detail: keyword };
    }
  }
  for (const name of ["List-Id", "List-Unsubscribe", "List-Post"]) {
    if (headerValue(input.fields, name) !== undefined) {
      return { action: "ignore", reason: "list-mail", detail: name };
    }
  }
  const precedence = headerValue(input.fields, "Precedence")?.trim().toLowerCase();
  if (precedence === "bulk" || precedence === "list" || precedence === "junk") {
    return { action: "ignore", reason: "bulk-precedence", detail: precedence };
  }

  const tokenText = headerValue(input.fields, "X-Scout-Probe");
  if (tokenText === undefined) return { action: "ignore", reason: "not-a-probe" };
  let probeId: string | undefined;
  try {
    probeId = parseProbeToken(tokenText).probeId;
    const { key, ...token } = verifyProbeTokenWithRing(tokenText, input.keys, {
      nowMs: input.nowMs,
      maxAgeMs: input.maxAgeMs,
      maxFutureSkewMs: MAX_FUTURE_SKEW_MS,
    });
    return { action: "reply", reason: "valid-probe", token, key };
  } catch (error) {
    if (!(error instanceof ProbeTokenError)) throw error;
    const ignored: Decision = { action: "ignore", reason: `token-${error.reason}`, detail: error.message };
    return probeId === undefined ? ignored : { ...ignored, probeId };
  }
}

function senderProblem(sender: string | undefined): Decision | undefined {
  // No sender information at all: the token check below still guards, and the reply never goes
  // to the sender anyway, only to the configured returnTo.
  if (sender === undefined) return undefined;
  if (sender === "") return { action: "ignore", reason: "null-sender" };
  const local = sender.replace(/@[^@]*$/, "").toLowerCase();
  if (local === "mailer-daemon") return { action: "ignore", reason: "mailer-daemon", detail: sender };
  // List administration addresses (RFC 3834 §2). "bounces+<probeId>@..." is NOT among them:
  // it is the envelope sender of every genuine probe.
  if (local.startsWith("owner-") || local.endsWith("-owner") || local.endsWith("-request")) {
    return { action: "ignore", reason: "list-admin-sender", detail: sender };
  }
  return undefined;
}
