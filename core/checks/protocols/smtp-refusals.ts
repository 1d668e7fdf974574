import type { Conversation } from "../conversation.ts";
import type { Reply } from "../dialect.ts";
import type { CheckFailure } from "../errors.ts";
import type { Reason } from "../reasons.ts";
import { type CodeMeaning, refusal } from "../refusal.ts";
import { rejectedMechanismHint } from "../sasl/mechanism-names.ts";

/**
 * Enhanced status codes (RFC 3463, `class.subject.detail` after the reply code, announced by
 * ENHANCEDSTATUSCODES, RFC 2034) that tell more than the basic reply code, keyed by
 * `subject.detail`: the class (4 or 5) says only whether it may pass.
 */
export const SMTP_ENHANCED_CODES: Readonly<Record<string, CodeMeaning>> = {
  "3.2": {
    reason: "service-unavailable",
    meaning: "the system is not accepting network messages",
    rfc: "RFC 3463 §3.4",
  },
  "4.5": { reason: "service-unavailable", meaning: "the system is congested", rfc: "RFC 3463 §3.5" },
  "7.8": { reason: "auth-failed", meaning: "authentication credentials invalid", rfc: "RFC 4954 §6" },
  "7.9": {
    reason: "auth-unavailable",
    meaning: "the authentication mechanism is too weak",
    rfc: "RFC 4954 §6",
  },
  "7.11": {
    reason: "auth-unavailable",
    meaning: "encryption is required for the authentication mechanism",
    rfc: "RFC 4954 §6",
  },
  "7.12": { reason: "auth-expired", meaning: "a password transition is needed", rfc: "RFC 4954 §6" },
};

const ENHANCED_CODE = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)/;

/** The enhanced status code of a reply (on its last line) and, when known, what it means. */
export function smtpEnhancedCode(reply: Reply): { name: string; meaning?: CodeMeaning } | undefined {
  const match = ENHANCED_CODE.exec(reply.lines[reply.lines.length - 1] ?? "");
  if (!match) return undefined;
  const [, klass, subject, detail] = match;
  const meaning = SMTP_ENHANCED_CODES[`${subject}.${detail}`];
  const name = `${reply.code} ${klass}.${subject}.${detail}`;
  return meaning ? { name, meaning } : { name };
}

/** A refused SMTP command: the enhanced code's reason, or `fallback` when it says no more. */
export function smtpRefusal(
  c: Conversation,
  step: string,
  reply: Reply,
  fallback: { reason: Reason; message: string },
): CheckFailure {
  return refusal(c, step, reply, smtpEnhancedCode(reply), fallback);
}

/**
 * A refused AUTH (RFC 4954 §6): 535 and 534 are about the credentials, other 5xx refuse
 * the command itself (530 "STARTTLS first", 538 "encryption required"), and 4xx is a
 * temporary failure on the server's side (454 4.7.0 "temporary authentication failure").
 */
export function smtpLoginRefusal(c: Conversation, reply: Reply, mechanism?: string): CheckFailure {
  const codes = mechanism ? `${reply.code}, ${mechanism}` : reply.code;
  const fallback: { reason: Reason; message: string } = reply.code.startsWith("4")
    ? { reason: "service-unavailable", message: `the server failed the login for now (${codes})` }
    : reply.code === "535" || reply.code === "534"
      ? { reason: "auth-failed", message: `login rejected (${codes})${rejectedMechanismHint(mechanism)}` }
      : { reason: "auth-unavailable", message: `the server refused the AUTH command (${codes})` };
  return smtpRefusal(c, mechanism ? `AUTH ${mechanism}` : "AUTH", reply, fallback);
}
