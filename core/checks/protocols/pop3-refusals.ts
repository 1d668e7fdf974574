import type { Conversation } from "../conversation.ts";
import type { Reply } from "../dialect.ts";
import type { CheckFailure } from "../errors.ts";
import type { Reason } from "../reasons.ts";
import { type CodeMeaning, mentionsTlsRequired, refusal } from "../refusal.ts";
import { rejectedMechanismHint } from "../sasl/mechanism-names.ts";

/**
 * POP3 extended response codes: `-ERR [CODE] text`, codes hierarchical with "/". A server
 * that sends them announces RESP-CODES (RFC 2449 §6.4) or AUTH-RESP-CODE (RFC 3206), but
 * a code is read wherever it comes: it says more than "-ERR" alone.
 */
export const POP3_RESPONSE_CODES: Readonly<Record<string, CodeMeaning>> = {
  "LOGIN-DELAY": {
    reason: "login-delay",
    meaning: "logged in again sooner than the server allows",
    rfc: "RFC 2449 §8.1.1",
  },
  "IN-USE": {
    reason: "mailbox-in-use",
    meaning: "the mailbox is locked by another session",
    rfc: "RFC 2449 §8.1.2",
  },
  "SYS/TEMP": {
    reason: "service-unavailable",
    meaning: "a temporary system problem on the server",
    rfc: "RFC 3206 §4",
  },
  "SYS/PERM": {
    reason: "service-unavailable",
    meaning: "a permanent system problem on the server",
    rfc: "RFC 3206 §4",
  },
  SYS: { reason: "service-unavailable", meaning: "a system problem on the server", rfc: "RFC 3206 §4" },
  AUTH: { reason: "auth-failed", meaning: "the credentials were not accepted", rfc: "RFC 3206 §5" },
};

const RESPONSE_CODE = /^-ERR \[([^\]\s]+)[^\]]*\]/i;

/** The response code of a -ERR reply and, when it is one we know, what it means. */
export function pop3ResponseCode(reply: Reply): { name: string; meaning?: CodeMeaning } | undefined {
  const name = RESPONSE_CODE.exec(reply.text)?.[1]?.toUpperCase();
  if (name === undefined) return undefined;
  // Codes are hierarchical (RFC 2449 §8): an unknown SYS/... still means a system problem.
  const meaning = POP3_RESPONSE_CODES[name] ?? POP3_RESPONSE_CODES[name.split("/")[0] ?? ""];
  return meaning ? { name: `[${name}]`, meaning } : { name: `[${name}]` };
}

/** True when the reply carries a response code that says what went wrong. */
export function hasKnownPop3Code(reply: Reply): boolean {
  return pop3ResponseCode(reply)?.meaning !== undefined;
}

/** A refused POP3 command: the response code's reason, or `fallback` when there is none. */
export function pop3Refusal(
  c: Conversation,
  step: string,
  reply: Reply,
  fallback: { reason: Reason; message: string },
): CheckFailure {
  return refusal(c, step, reply, pop3ResponseCode(reply), fallback);
}

/**
 * A refused login step (USER, PASS, AUTH). A refusal that asks for TLS is auth-unavailable,
 * as IMAP's LOGINDISABLED is, even under [AUTH] (Dovecot: "-ERR [AUTH] Plaintext
 * authentication disallowed on non-secure (SSL/TLS) connections."); a USER refused before
 * any password was sent says so.
 */
export function pop3LoginRefusal(
  c: Conversation,
  step: string,
  reply: Reply,
  mechanism?: string,
): CheckFailure {
  const code = pop3ResponseCode(reply);
  const aboutCredentials = !code?.meaning || code.meaning.reason === "auth-failed";
  if (aboutCredentials && mentionsTlsRequired(reply.text)) {
    return c.fail(
      "auth-unavailable",
      `the server refused ${step}: it allows login only over TLS`,
      reply.text,
    );
  }
  const message =
    step === "USER"
      ? "the server refused USER, before any password was sent"
      : `login rejected${mechanism ? ` (${mechanism})` : ""}${rejectedMechanismHint(mechanism)}`;
  const named = mechanism && step !== "USER" ? `${step} (${mechanism})` : step;
  return refusal(c, named, reply, code, { reason: "auth-failed", message });
}
