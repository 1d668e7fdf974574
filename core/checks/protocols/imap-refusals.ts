import type { Conversation } from "../conversation.ts";
import type { Reply } from "../dialect.ts";
import type { CheckFailure } from "../errors.ts";
import type { Reason } from "../reasons.ts";
import { type CodeMeaning, mentionsTlsRequired } from "../refusal.ts";
import { rejectedMechanismHint } from "../sasl/mechanism-names.ts";

/**
 * IMAP response codes that say why a command or the session was refused: `a2 NO [CODE] text`,
 * `* BYE [CODE] text`. All from RFC 5530 §3 but ALERT (RFC 3501 §7.1), which only asks for the
 * text to be shown.
 */
export const IMAP_RESPONSE_CODES: Readonly<Record<string, CodeMeaning>> = {
  UNAVAILABLE: {
    reason: "service-unavailable",
    meaning: "a subsystem the server needs is down",
    rfc: "RFC 5530 §3",
  },
  AUTHENTICATIONFAILED: {
    reason: "auth-failed",
    meaning: "the credentials were not accepted",
    rfc: "RFC 5530 §3",
  },
  AUTHORIZATIONFAILED: {
    reason: "auth-failed",
    meaning: "the credentials are valid but may not use this account",
    rfc: "RFC 5530 §3",
  },
  EXPIRED: { reason: "auth-expired", meaning: "the credentials have expired", rfc: "RFC 5530 §3" },
  PRIVACYREQUIRED: {
    reason: "auth-unavailable",
    meaning: "login is allowed only over TLS",
    rfc: "RFC 5530 §3",
  },
  CONTACTADMIN: {
    reason: "auth-failed",
    meaning: "the account needs its administrator (e.g. disabled)",
    rfc: "RFC 5530 §3",
  },
  INUSE: {
    reason: "mailbox-in-use",
    meaning: "the mailbox is in use by another session",
    rfc: "RFC 5530 §3",
  },
  LIMIT: {
    reason: "over-limit",
    meaning: "a limit was reached (e.g. concurrent sessions)",
    rfc: "RFC 5530 §3",
  },
  OVERQUOTA: { reason: "over-limit", meaning: "the account is over its quota", rfc: "RFC 5530 §3" },
};

/** `* BYE ...`: the server is closing the connection (RFC 3501 §7.1.5). */
export const UNTAGGED_BYE = /^\* BYE\b/i;
const RESPONSE_CODE = /^(?:\S+) (?:OK|NO|BAD|BYE|PREAUTH)\s+\[([A-Za-z0-9-]+)[^\]]*\]/i;
const ALERT = /^(?:\S+) (?:OK|NO|BAD|BYE)\s+\[ALERT\]\s*(.*)$/i;

export function imapResponseCode(line: string): { name: string; meaning?: CodeMeaning } | undefined {
  const name = RESPONSE_CODE.exec(line)?.[1]?.toUpperCase();
  if (name === undefined) return undefined;
  const meaning = IMAP_RESPONSE_CODES[name];
  return meaning ? { name: `[${name}]`, meaning } : { name: `[${name}]` };
}

/** The texts of [ALERT]s among these lines: the server wants them shown (RFC 3501 §7.1). */
export function imapAlerts(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const text = ALERT.exec(line)?.[1]?.trim();
    return text ? [text] : [];
  });
}

function withAlerts(message: string, lines: readonly string[]): string {
  const alerts = imapAlerts(lines);
  return alerts.length === 0 ? message : `${message}; the server's alert: "${alerts.join(" / ")}"`;
}

/** A refused command: the response code's reason, or `fallback`; any alert is shown. */
export function imapRefusal(
  c: Conversation,
  step: string,
  reply: Reply,
  fallback: { reason: Reason; message: string },
): CheckFailure {
  const code = imapResponseCode(reply.text);
  if (code?.meaning) {
    const { reason, meaning, rfc } = code.meaning;
    const message = `the server refused ${step}: ${code.name}, ${meaning} (${rfc})`;
    return c.fail(reason, withAlerts(message, reply.raw), reply.text);
  }
  return c.fail(fallback.reason, withAlerts(fallback.message, reply.raw), reply.text);
}

/** A refused login: as imapRefusal, and a refusal that asks for TLS is auth-unavailable. */
export function imapLoginRefusal(c: Conversation, reply: Reply, mechanism?: string): CheckFailure {
  const used = mechanism ? ` (${mechanism})` : "";
  if (reply.code === "BAD") {
    return c.fail("protocol-error", `the server called the login command malformed${used}`, reply.text);
  }
  const meaning = imapResponseCode(reply.text)?.meaning;
  const aboutCredentials = !meaning || meaning.reason === "auth-failed";
  if (aboutCredentials && mentionsTlsRequired(reply.text)) {
    return c.fail(
      "auth-unavailable",
      withAlerts("the server refused the login: it allows login only over TLS", reply.raw),
      reply.text,
    );
  }
  return imapRefusal(c, `the login${used}`, reply, {
    reason: "auth-failed",
    message: `login rejected${used}${rejectedMechanismHint(mechanism)}`,
  });
}

/**
 * An untagged BYE where none was asked for: the server is ending the session. Its response
 * code, when it has one, gives the reason; otherwise it is service-unavailable. `when` says
 * where it came ("in reply to CAPABILITY"); by default, the phase.
 */
export function unsolicitedBye(c: Conversation, line: string, when = `during ${c.phase}`): CheckFailure {
  const code = imapResponseCode(line);
  const reason: Reason = code?.meaning?.reason ?? "service-unavailable";
  const because = code?.meaning ? ` (${code.name}, ${code.meaning.meaning})` : "";
  return c.fail(reason, withAlerts(`the server said BYE ${when}${because}`, [line]), line);
}

/**
 * Whether a BYE read in LOGOUT's reply is the server's own rather than LOGOUT's: it carries
 * an alert or a refusal code, which no server puts in a plain goodbye.
 */
export function isRefusingBye(line: string): boolean {
  return imapAlerts([line]).length > 0 || imapResponseCode(line)?.meaning !== undefined;
}
