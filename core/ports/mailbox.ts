import type { FetchConfig } from "../config/fetch-schema.ts";

/*
 * A probe mailbox read over IMAP or POP3 (fetch mode). The core decides what a message is and
 * whether it may be deleted; a session only lists, reads headers, deletes and waits.
 */

/** Where a message was found: "inbox", or "junk" (the \Junk folder or the configured one). */
export type MailboxFolder = "inbox" | "junk";

/** One message that carries an X-Scout-Probe header, as the session found it. */
export interface MailboxMessage {
  readonly folder: MailboxFolder;
  /** The server's name for the folder ("INBOX", "Junk", "[Gmail]/Spam"), for logs. */
  readonly folderName: string;
  /** IMAP UID or POP3 UIDL: what delete() needs, with the folder. */
  readonly id: string;
  /** The header block, one entry per line, line ends removed. */
  readonly headerLines: readonly string[];
  /**
   * When the monitor first saw it (monitor clock): the IMAP EXISTS notification that announced
   * it when IDLE did, otherwise the listing that found it.
   */
  readonly seenAtMs: number;
  /** IMAP INTERNALDATE (the server's clock, second resolution): informational. */
  readonly serverArrivedAtMs?: number;
}

/** One logged-in connection to a probe mailbox. */
export interface MailboxSession {
  /** IMAP with IDLE: new inbox mail is announced at once rather than found at the next poll. */
  readonly pushesNewMail: boolean;
  /** Messages in the inbox and the junk folder that carry an X-Scout-Probe header. */
  probeMessages(): Promise<MailboxMessage[]>;
  /** Deletes one message listed by probeMessages (expunged on IMAP, DELE then QUIT on POP3). */
  delete(message: MailboxMessage): Promise<void>;
  /**
   * Resolves when new mail may be there: at an IDLE EXISTS notification, or at `untilMs` (the
   * next poll), whichever comes first. Never rejects.
   */
  waitForNews(untilMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens sessions: credentials are read here (files locally, Secrets Manager on AWS). */
export interface MailboxOpener {
  open(targetId: string, fetch: FetchConfig): Promise<MailboxSession>;
}

/** Logging in or talking to the mailbox failed; the message names the target and the step. */
export class MailboxError extends Error {
  override readonly name = "MailboxError";
  constructor(
    readonly targetId: string,
    readonly step: "connect" | "login" | "list" | "read" | "delete",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`mailbox of target ${targetId}: ${step}: ${message}`, options);
  }
}
