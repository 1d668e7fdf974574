import type { MailSender, OutgoingMessage } from "../../core/ports/mail-sender.ts";
import type { MailboxFolder, MailboxMessage, MailboxSession } from "../../core/ports/mailbox.ts";
import { parseMessage } from "../../core/wire/parse-headers.ts";

/**
 * A probe mailbox in memory, for tests of the core's fetch logic: mail is put in a folder,
 * sessions list what carries X-Scout-Probe and delete by id, and a wait ends when mail is put
 * in (as an IDLE EXISTS would) or at its time. The real sessions (IMAP, POP3) are tested
 * against Dovecot in the integration tier and against a POP3 server on port 0.
 */
export class MemoryMailbox {
  private nextId = 1;
  readonly messages: { id: string; folder: MailboxFolder; headerLines: string[]; putAtMs: number }[] = [];
  readonly deleted: string[] = [];
  private readonly waiters = new Set<() => void>();
  /** Sessions opened and not yet closed. */
  openSessions = 0;

  constructor(private readonly clock: { now(): number }) {}

  /** Puts a message in, by its raw text; returns its id. */
  put(raw: Buffer | string, folder: MailboxFolder = "inbox"): string {
    const id = String(this.nextId++);
    const headerLines = parseMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).headerLines;
    this.messages.push({ id, folder, headerLines, putAtMs: this.clock.now() });
    for (const wake of this.waiters) wake();
    return id;
  }

  /** A sender that delivers every message into this mailbox's `folder`. */
  sender(folder: MailboxFolder = "inbox"): MailSender & { sent: OutgoingMessage[] } {
    const sent: OutgoingMessage[] = [];
    return {
      sent,
      send: async (message) => {
        sent.push(message);
        this.put(message.raw, folder);
        return { response: "250 2.0.0 Ok: delivered to memory" };
      },
    };
  }

  session(): MailboxSession {
    this.openSessions += 1;
    const mailbox = this;
    return {
      pushesNewMail: true,
      async probeMessages(): Promise<MailboxMessage[]> {
        return mailbox.messages
          .filter((m) => m.headerLines.some((line) => /^x-scout-probe[ \t]*:/i.test(line)))
          .map((m) => ({
            folder: m.folder,
            folderName: m.folder === "inbox" ? "INBOX" : "Junk",
            id: m.id,
            headerLines: m.headerLines,
            seenAtMs: m.putAtMs,
          }));
      },
      async delete(message: MailboxMessage): Promise<void> {
        const index = mailbox.messages.findIndex((m) => m.id === message.id);
        if (index < 0) throw new Error(`no message ${message.id}`);
        mailbox.messages.splice(index, 1);
        mailbox.deleted.push(message.id);
      },
      waitForNews(untilMs: number): Promise<void> {
        return new Promise((resolve) => {
          const done = () => {
            clearTimeout(timer);
            mailbox.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, untilMs - mailbox.clock.now()));
          mailbox.waiters.add(done);
        });
      },
      async close(): Promise<void> {
        mailbox.openSessions -= 1;
      },
    };
  }
}
