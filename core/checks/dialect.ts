import type { Secret } from "../basics/secret.ts";
import type { Conversation } from "./conversation.ts";
import type { Protocol } from "./endpoint-kinds.ts";
import type { LoginMechanismName } from "./sasl/mechanism-names.ts";

/** One complete server reply, whatever the protocol's grammar. */
export interface Reply {
  /** Positive completion (SMTP 2xx/3xx, IMAP OK, POP3 +OK, a SASL continuation). */
  readonly ok: boolean;
  /** The status as sent: "250", "OK", "NO", "+OK", "-ERR", "+" ... */
  readonly code: string;
  /** The reply's text lines (SMTP: text after the code; IMAP: untagged lines; POP3: the body). */
  readonly lines: readonly string[];
  /** The final line exactly as the server sent it. */
  readonly text: string;
  /** Every line of the reply exactly as sent. */
  readonly raw: readonly string[];
}

export type GreetingVerdict = "ok" | "unavailable" | "bad";

export interface Credentials {
  readonly user: string;
  readonly password: Secret;
  /** Log in with this mechanism only (`--auth-mech`, `login.mechanism`); the strongest shared one by default. */
  readonly mechanism?: LoginMechanismName;
}

export interface DialogueContext {
  /** Name the client announces (SMTP EHLO). */
  readonly clientName: string;
  readonly greeting: Reply;
  /** True on the second capability request, after TLS has started. */
  readonly afterTls: boolean;
}

/**
 * What differs between SMTP, IMAP and POP3: the reply grammar, the commands, and how a
 * reply is judged. The engine (run-check.ts) owns the order of phases and the deadlines.
 */
export interface Dialect {
  readonly protocol: Protocol;
  /** The capability that announces the in-band TLS upgrade (STARTTLS or STLS). */
  readonly startTlsCapability: string;
  readGreeting(c: Conversation): Promise<Reply>;
  judgeGreeting(greeting: Reply): GreetingVerdict;
  capabilities(c: Conversation, context: DialogueContext): Promise<string[]>;
  /** Sends the upgrade command; the reply's `ok` says whether TLS may start. */
  startTls(c: Conversation): Promise<Reply>;
  /** Logs in or throws a CheckFailure (auth-failed, auth-unavailable, ...). */
  login(c: Conversation, credentials: Credentials, capabilities: readonly string[]): Promise<void>;
  quit(c: Conversation): Promise<void>;
}

export function hasCapability(capabilities: readonly string[], name: string): boolean {
  const wanted = name.toUpperCase();
  return capabilities.some((cap) => cap.toUpperCase() === wanted);
}
