import type { Conversation } from "./conversation.ts";
import type { CheckFailure } from "./errors.ts";
import type { Reason } from "./reasons.ts";

/** What one response code says about a refusal, from the RFC that defines it. */
export interface CodeMeaning {
  readonly reason: Reason;
  /** Plain words for the operator: what the code means. */
  readonly meaning: string;
  readonly rfc: string;
}

/**
 * Words with which servers refuse a login that only TLS would allow, when they send no
 * response code for it: Courier POP3 "-ERR TLS required to log in.", Dovecot "Plaintext
 * authentication disallowed on non-secure (SSL/TLS) connections.". A wrong password is never
 * refused in these words.
 */
const TLS_REQUIRED_WORDS = /\b(?:TLS|SSL|STLS|STARTTLS|encrypt\w*|plaintext|non-secure|insecure)\b/i;

export function mentionsTlsRequired(text: string): boolean {
  return TLS_REQUIRED_WORDS.test(text);
}

/**
 * The failure for a refused step: the reason its response code maps to, or `fallback` when
 * there is none. The message names the step, the code and what it means; the server's own
 * words go along as its reply.
 */
export function refusal(
  c: Conversation,
  step: string,
  reply: { readonly text: string },
  code: { readonly name: string; readonly meaning?: CodeMeaning } | undefined,
  fallback: { readonly reason: Reason; readonly message: string },
): CheckFailure {
  if (code?.meaning) {
    const { reason, meaning, rfc } = code.meaning;
    return c.fail(reason, `the server refused ${step}: ${code.name}, ${meaning} (${rfc})`, reply.text);
  }
  return c.fail(fallback.reason, fallback.message, reply.text);
}
