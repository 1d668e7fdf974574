import type { Endpoint } from "../checks/endpoint.ts";
import type { Clock } from "../ports/clock.ts";
import type { Logger } from "../ports/logger.ts";
import { MailboxError, type MailboxMessage, type MailboxSession } from "../ports/mailbox.ts";
import type { MailboxLogin } from "./mailbox-login.ts";
import { Pop3Client, Pop3Error } from "./pop3-client.ts";

/*
 * A probe mailbox over POP3. A POP3 session sees the maildrop as it was at login and deletes
 * only at QUIT, so each look is its own login: list, read the headers of messages not seen
 * before, delete what the core says, QUIT before the wait. POP3 has no junk folder and no push:
 * the inbox is looked at every pollSeconds, and the round trip ends at the look that found it.
 */

export interface Pop3SessionOptions {
  readonly targetId: string;
  readonly endpoint: Endpoint;
  readonly caFile?: string;
  readonly login: MailboxLogin;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timeoutMs?: number;
}

/** Only the newest messages are read: a probe is among the last to arrive. */
const NEWEST_MESSAGES = 200;

export async function openPop3Session(options: Pop3SessionOptions): Promise<MailboxSession> {
  const session = new Pop3Session(options);
  // Logged in once now, so a wrong password or an unreachable server is known before the probe is sent.
  await session.connect();
  return session;
}

class Pop3Session implements MailboxSession {
  readonly pushesNewMail = false;
  private client: Pop3Client | undefined;
  /** Headers already read, by unique id: a message that is not a probe is read once. */
  private readonly known = new Map<string, { probe: boolean; seenAtMs: number }>();
  /** Message numbers of the current login, by unique id. */
  private numbers = new Map<string, number>();

  constructor(private readonly options: Pop3SessionOptions) {}

  async connect(): Promise<void> {
    try {
      this.client = await Pop3Client.open(this.options.endpoint, this.options.login, {
        timeoutMs: this.options.timeoutMs ?? 20_000,
        ...(this.options.caFile === undefined ? {} : { caFile: this.options.caFile }),
      });
    } catch (cause) {
      const step = cause instanceof Pop3Error && /PASS|XOAUTH2/.test(cause.message) ? "login" : "connect";
      throw new MailboxError(this.options.targetId, step, describe(cause), { cause });
    }
  }

  async probeMessages(): Promise<MailboxMessage[]> {
    if (this.client === undefined) await this.connect();
    const client = this.client as Pop3Client;
    const lookedAtMs = this.options.clock.now();
    try {
      const ids = await client.uniqueIds();
      this.numbers = new Map([...ids].map(([number, id]) => [id, number]));
      const newest = [...ids].sort((a, b) => b[0] - a[0]).slice(0, NEWEST_MESSAGES);
      const found: MailboxMessage[] = [];
      for (const [number, id] of newest) {
        const known = this.known.get(id);
        if (known !== undefined && !known.probe) continue;
        let headerLines: string[];
        try {
          headerLines = await client.header(number);
        } catch (cause) {
          // Gone since the listing: another session (the user's IMAP client, another login)
          // expunged it, and Dovecot says "-ERR Message 4 expunged.". The session is still good,
          // and the rest of the listing is readable.
          if (cause instanceof Pop3Error && cause.reply?.startsWith("-ERR")) continue;
          throw cause;
        }
        const probe = headerLines.some((line) => /^x-scout-probe[ \t]*:/i.test(line));
        const seenAtMs = known?.seenAtMs ?? lookedAtMs;
        this.known.set(id, { probe, seenAtMs });
        if (probe) found.push({ folder: "inbox", folderName: "INBOX", id, headerLines, seenAtMs });
      }
      return found;
    } catch (cause) {
      this.drop();
      throw new MailboxError(this.options.targetId, "read", describe(cause), { cause });
    }
  }

  async delete(message: MailboxMessage): Promise<void> {
    const number = this.numbers.get(message.id);
    if (this.client === undefined || number === undefined) {
      throw new MailboxError(this.options.targetId, "delete", "the message is not in this login's listing");
    }
    try {
      await this.client.delete(number);
    } catch (cause) {
      throw new MailboxError(this.options.targetId, "delete", describe(cause), { cause });
    }
  }

  async waitForNews(untilMs: number): Promise<void> {
    // QUIT first: it applies the deletions, and the next look needs a new login to see new mail.
    await this.logout();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, untilMs - this.options.clock.now())));
  }

  async close(): Promise<void> {
    await this.logout();
  }

  private async logout(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.numbers = new Map();
    await client?.quit().catch((error: unknown) => {
      this.options.log.warn("POP3 QUIT failed; deletions of this login may not have taken effect", {
        target: this.options.targetId,
        error: describe(error),
      });
    });
  }

  private drop(): void {
    this.client?.destroy();
    this.client = undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Pop3Error && error.reply !== undefined)
    return `${error.message}: ${error.reply.slice(0, 200)}`;
  return (error as Error).message ?? String(error);
}
