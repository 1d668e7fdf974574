import { isIP } from "node:net";
import { ImapFlow, type ImapFlowOptions } from "imapflow";
import type { Endpoint } from "../checks/endpoint.ts";
import { trustContext } from "../checks/trust-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { Logger } from "../ports/logger.ts";
import {
  MailboxError,
  type MailboxFolder,
  type MailboxMessage,
  type MailboxSession,
} from "../ports/mailbox.ts";
import type { MailboxLogin } from "./mailbox-login.ts";

/*
 * A probe mailbox over IMAP, through imapflow. INBOX stays selected and, while the core waits,
 * in IDLE (RFC 2177): the server's EXISTS for a new message is timed as it arrives, so the
 * round trip ends when the server announced the probe, not at the next poll. The junk folder
 * cannot be watched on the same connection (IDLE watches the selected mailbox only), so it is
 * searched at every look, that is at each poll and each EXISTS.
 */

export interface ImapSessionOptions {
  readonly targetId: string;
  readonly endpoint: Endpoint;
  readonly caFile?: string;
  readonly login: MailboxLogin;
  /** A folder name; default: the one the server marks \Junk (RFC 6154), if any. */
  readonly junkFolder?: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Connect, greeting and each command; default 20 s. */
  readonly timeoutMs?: number;
}

const INBOX = "INBOX";
const PROBE_HEADER = "X-Scout-Probe";
/** Dovecot and Exchange end an IDLE after ~30 min; restart it well before. */
const IDLE_RESTART_MS = 10 * 60_000;

export async function openImapSession(options: ImapSessionOptions): Promise<MailboxSession> {
  const { endpoint, login, targetId } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const client = new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.tls === "implicit",
    // Not in imapflow's types: true insists on STARTTLS, false never asks, absent uses it if offered.
    ...({ doSTARTTLS: startTlsChoice(endpoint) } as ImapFlowOptions),
    // SNI carries host names only (RFC 6066 §3); an IP literal is checked against the certificate's IP SANs.
    ...serverName(endpoint),
    tls: { secureContext: trustContext(options.caFile) },
    auth:
      login.kind === "password"
        ? { user: login.user, pass: login.password.reveal() }
        : { user: login.user, accessToken: (await login.accessToken()).reveal() },
    logger: false,
    disableAutoIdle: true,
    maxIdleTime: IDLE_RESTART_MS,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: IDLE_RESTART_MS + timeoutMs,
  });
  // Without a listener an 'error' event would end the process; the failing command rejects as well.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (cause) {
    const step = (cause as { authenticationFailed?: boolean }).authenticationFailed ? "login" : "connect";
    throw new MailboxError(targetId, step, describeImapError(cause), { cause });
  }
  try {
    const junk = await junkFolderOf(client, options.junkFolder);
    await client.mailboxOpen(INBOX);
    return new ImapSession(client, options, junk);
  } catch (cause) {
    await client.logout().catch(() => {});
    throw new MailboxError(targetId, "list", describeImapError(cause), { cause });
  }
}

class ImapSession implements MailboxSession {
  readonly pushesNewMail: boolean;
  /** When the last EXISTS that grew INBOX arrived, if after the last look. */
  private existsAtMs: number | undefined;
  private readonly seen = new Map<string, number>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: ImapFlow,
    private readonly options: ImapSessionOptions,
    private readonly junkFolder: string | undefined,
  ) {
    this.pushesNewMail = client.capabilities.has("IDLE");
    client.on("exists", (update: { path: string; count: number; prevCount: number }) => {
      if (update.path !== INBOX || update.count <= update.prevCount) return;
      this.existsAtMs ??= options.clock.now();
      this.wake?.();
    });
  }

  async probeMessages(): Promise<MailboxMessage[]> {
    try {
      const lookedAtMs = this.options.clock.now();
      const inboxAtMs = this.existsAtMs ?? lookedAtMs;
      this.existsAtMs = undefined;
      const found = await this.search(INBOX, "inbox", inboxAtMs);
      if (this.junkFolder !== undefined) {
        const inboxCount = this.inboxCount();
        found.push(...(await this.search(this.junkFolder, "junk", lookedAtMs)));
        await this.client.mailboxOpen(INBOX);
        // Mail that reached INBOX while the junk folder was selected got no EXISTS: it counts as
        // news now, so the wait that follows ends at once rather than at the next poll.
        if (this.inboxCount() > inboxCount) this.existsAtMs ??= this.options.clock.now();
      }
      return found;
    } catch (cause) {
      throw new MailboxError(this.options.targetId, "read", describeImapError(cause), { cause });
    }
  }

  /** Messages in INBOX as the server last said, while it is selected. */
  private inboxCount(): number {
    const mailbox = this.client.mailbox;
    return mailbox === false || mailbox.path !== INBOX ? 0 : Number(mailbox.exists);
  }

  async delete(message: MailboxMessage): Promise<void> {
    try {
      if (message.folderName !== INBOX) await this.client.mailboxOpen(message.folderName);
      await this.client.messageDelete(message.id, { uid: true });
      if (message.folderName !== INBOX) await this.client.mailboxOpen(INBOX);
    } catch (cause) {
      throw new MailboxError(this.options.targetId, "delete", describeImapError(cause), { cause });
    }
  }

  waitForNews(untilMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, untilMs - this.options.clock.now()));
      if (this.existsAtMs !== undefined) return done();
      this.wake = done;
      // The next command (the look that follows) ends the IDLE: imapflow sends DONE first.
      if (this.pushesNewMail) this.client.idle().catch(done);
    });
  }

  async close(): Promise<void> {
    this.wake?.();
    await this.client.logout().catch(() => this.client.close());
  }

  /** UIDs of probe messages in one folder, with their headers and INTERNALDATE. */
  private async search(folderName: string, folder: MailboxFolder, atMs: number): Promise<MailboxMessage[]> {
    if (this.client.mailbox === false || this.client.mailbox.path !== folderName) {
      await this.client.mailboxOpen(folderName);
    }
    const uids = await this.client.search({ header: { [PROBE_HEADER]: "" } }, { uid: true });
    if (!uids || uids.length === 0) return [];
    const messages: MailboxMessage[] = [];
    const fetched = await this.client.fetchAll(
      uids,
      { uid: true, headers: true, internalDate: true },
      { uid: true },
    );
    for (const message of fetched) {
      const key = `${folderName}\n${message.uid}`;
      // A message still there from an earlier look (not deleted) keeps its first sighting.
      const seenAtMs = this.seen.get(key) ?? atMs;
      this.seen.set(key, seenAtMs);
      const internal =
        message.internalDate === undefined ? undefined : new Date(message.internalDate).getTime();
      messages.push({
        folder,
        folderName,
        id: String(message.uid),
        headerLines: headerLinesOf(message.headers),
        seenAtMs,
        ...(internal === undefined || Number.isNaN(internal) ? {} : { serverArrivedAtMs: internal }),
      });
    }
    return messages;
  }
}

/**
 * The configured junk folder, which must exist (a typo would otherwise fail every look), or the
 * folder the server marks \Junk (RFC 6154 SPECIAL-USE, or imapflow's name heuristics), if any.
 */
async function junkFolderOf(client: ImapFlow, configured: string | undefined): Promise<string | undefined> {
  const folders = await client.list();
  if (configured === undefined) return folders.find((folder) => folder.specialUse === "\\Junk")?.path;
  if (folders.some((folder) => folder.path === configured)) return configured;
  const names = folders.map((folder) => folder.path).join(", ");
  throw new Error(`junkFolder "${configured}" is not a folder of this mailbox (it has: ${names})`);
}

function serverName(endpoint: Endpoint): { servername?: string } {
  const name = endpoint.tlsServerName ?? endpoint.host;
  return isIP(name) ? {} : { servername: name };
}

function startTlsChoice(endpoint: Endpoint): boolean | undefined {
  if (endpoint.tls === "implicit") return undefined;
  if (endpoint.startTls === "required") return true;
  return endpoint.startTls === "off" ? false : undefined;
}

/** The header block as lines: unfolding and parsing are the core's (parseMessage). */
function headerLinesOf(headers: Buffer | undefined): string[] {
  if (headers === undefined) return [];
  const lines = headers.toString("latin1").split(/\r?\n/);
  const end = lines.indexOf("");
  return end < 0 ? lines : lines.slice(0, end);
}

/** imapflow's errors carry the server's response text; never the credentials. */
function describeImapError(error: unknown): string {
  const failure = error as { message?: string; responseText?: string; serverResponseCode?: string };
  const text = failure.responseText ?? failure.message ?? String(error);
  return failure.serverResponseCode ? `${text} [${failure.serverResponseCode}]` : text;
}
