import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { ListenerRefusal } from "../../core/ports/probe-store.ts";
import { ConnectionCount, RefusalLog, type RejectionRate } from "./listener-guard.ts";
import { greetPromptly } from "./prompt-greeting.ts";
import { type Spool, SpoolSizeError } from "./spool.ts";

/** What the listener needs of a spool (a Spool; tests may wrap one). */
export type InboundSpool = Pick<Spool, "write" | "remove">;

/*
 * Local mode's stand-in for the SES receipt rule: an SMTP server that accepts mail only for
 * the return address and bounces+<probeId>@<inbound domain>, spools each message to disk and
 * answers 250 only once it is there. Processing happens later (onSpooled), so a crash after the
 * 250 loses nothing, and a failure before it makes the sender retry.
 */

export interface InboundListenerOptions {
  /** Address to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  /** Where email_return sends its replies. */
  returnAddress: string;
  /** Bounces come back to bounces+<probeId>@ this domain. */
  inboundDomain: string;
  spool: InboundSpool;
  /** Largest message accepted, advertised as SIZE (RFC 1870); 1 MiB. */
  maxBytes?: number;
  /** Offer STARTTLS with this identity; without it, STARTTLS is neither offered nor accepted. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Asked on each new connection, before its STARTTLS: an identity it returns (a certificate
   * renewed on disk, tls-identity-files.ts) is served from that connection on.
   */
  renewedTls?: () => { key: string | Buffer; cert: string | Buffer } | undefined;
  /** Called with the spool id after the 250 went out. Must not throw; is not awaited. */
  onSpooled: (id: string) => void;
  /** The host name in the greeting and EHLO reply. */
  name?: string;
  banner?: string;
  log?: Logger;
  clock?: Clock;
  /** Idle time allowed per command; RFC 5321 §4.5.3.2.7 asks a server for at least 5 minutes. */
  socketTimeoutMs?: number;
  /** How long close() lets open sessions finish before cutting them off. */
  closeTimeoutMs?: number;
  /** Sessions open at once, all clients together; 100. */
  maxClients?: number;
  /** Sessions one remote address may hold at once; 5. */
  maxConnectionsPerClient?: number;
  /**
   * A session is cut (421) this long after it opened, busy or not; 120 s. The idle timeout
   * restarts on every byte, so only this bounds a client that feeds a byte a second.
   */
  sessionTimeoutMs?: number;
  /** Rejected mail per client; one over its allowance is refused (421) at connect and MAIL FROM. */
  rejections?: RejectionRate;
  /** Told of every refusal (logged once per client and minute here). Must not throw. */
  onRefusal?: (reason: ListenerRefusal, remoteAddress: string, detail: string) => void;
}

export interface InboundListener {
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_SESSION_TIMEOUT_MS = 120_000;
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const BOUNCES_PREFIX = "bounces+";
const PROBE_ID = /^[A-Za-z0-9_-]{16,32}$/;

/**
 * True for the return address and for bounces+<probeId>@<inboundDomain>. The domain is
 * compared case-insensitively (RFC 5321 §2.4); the local part exactly, except the "bounces+"
 * prefix, because the probe id inside it is case-sensitive base64url.
 */
export function isAcceptedRecipient(address: string, returnAddress: string, inboundDomain: string): boolean {
  const [local, domain] = splitAddress(address);
  const [returnLocal, returnDomain] = splitAddress(returnAddress);
  if (local === returnLocal && domain === returnDomain) return true;
  if (domain !== inboundDomain.toLowerCase()) return false;
  const prefix = local.slice(0, BOUNCES_PREFIX.length).toLowerCase();
  return prefix === BOUNCES_PREFIX && PROBE_ID.test(local.slice(BOUNCES_PREFIX.length));
}

/** Starts listening; resolves once the port is bound. */
export async function startInboundListener(options: InboundListenerOptions): Promise<InboundListener> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const clock = options.clock ?? systemClock;
  const log: Logger = options.log ?? silent;
  const tlsOptions = options.tls === undefined ? {} : { key: options.tls.key, cert: options.tls.cert };
  const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const connections = new ConnectionCount(options.maxConnectionsPerClient ?? 5, options.maxClients ?? 100);
  const sessionTimers = new Map<string, NodeJS.Timeout>();
  /** Sessions cut at the session limit: a message they leave unfinished is no spool failure. */
  const cutSessions = new WeakSet<SMTPServerSession>();
  const refusalLog = new RefusalLog(log, clock);
  const refused = (reason: ListenerRefusal, client: string, detail: string) => {
    // 550 and 552 are rejected mail; a 421 is not, or a refused client would extend its own ban.
    if (reason === "listener-wrong-recipient" || reason === "listener-too-large")
      options.rejections?.note(client);
    refusalLog.refused(client, reason, detail);
    try {
      options.onRefusal?.(reason, client, detail);
    } catch (error) {
      log.error("onRefusal failed", { error: errorText(error) });
    }
  };
  const rateLimited = (client: string): Error | undefined => {
    if (!options.rejections?.exceeded(client)) return undefined;
    refused("listener-rate-limited", client, "too much rejected mail in the last minute");
    return smtpError(421, "too much rejected mail from your address, try again in a minute");
  };

  const server = new SMTPServer({
    ...tlsOptions,
    secure: false,
    name: options.name,
    banner: options.banner ?? "Email Scout returns",
    // SIZE (RFC 1870): an over-size MAIL FROM SIZE= is refused up front, and a message that
    // turns out larger is refused with 552 5.3.4 whatever onData said.
    size: maxBytes,
    rejectOversized: true,
    hideENHANCEDSTATUSCODES: false,
    hideSTARTTLS: options.tls === undefined,
    // Nobody logs in here: senders are other MTAs. Without a certificate, no STARTTLS at all
    // (smtp-server would otherwise fall back to its built-in, publicly known key).
    authOptional: true,
    disabledCommands: options.tls === undefined ? ["AUTH", "STARTTLS"] : ["AUTH"],
    socketTimeout: options.socketTimeoutMs ?? 5 * 60_000,
    closeTimeout: options.closeTimeoutMs ?? 10_000,
    // Both connection limits are kept in onConnect (ConnectionCount), where a refusal is counted.
    maxClients: 0,
    logger: false,
    // The client's name is never used (the spool keeps the address), and a reverse lookup
    // is one more network step that can stall before the banner.
    disableReverseLookup: true,

    onConnect(session: SMTPServerSession, callback) {
      const client = session.remoteAddress;
      const limited = rateLimited(client);
      if (limited) return callback(limited);
      const slot = connections.open(session.id, client);
      if (slot !== "ok") {
        const which = slot === "client-full" ? "from your address" : "in all";
        refused("listener-too-many-connections", client, `too many connections ${which}`);
        // 421 closes the connection (RFC 5321 §3.8); the sender tries again later.
        return callback(smtpError(421, `too many connections ${which}, try again in a moment`));
      }
      const timer = setTimeout(() => {
        sessionTimers.delete(session.id);
        const connection = findConnection(server, session.id);
        if (connection === undefined) return;
        cutSessions.add(session);
        refused("listener-session-timeout", client, `session open for ${sessionTimeoutMs} ms`);
        // smtp-server closes the connection after a 421.
        connection.send(421, `session time limit of ${sessionTimeoutMs / 1000} s reached`);
      }, sessionTimeoutMs);
      timer.unref();
      sessionTimers.set(session.id, timer);
      callback();
    },

    onClose(session: SMTPServerSession) {
      connections.close(session.id);
      clearTimeout(sessionTimers.get(session.id));
      sessionTimers.delete(session.id);
    },

    onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, callback) {
      callback(rateLimited(session.remoteAddress));
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      if (isAcceptedRecipient(address.address, options.returnAddress, options.inboundDomain)) {
        return callback();
      }
      refused("listener-wrong-recipient", session.remoteAddress, `<${address.address}>`);
      // 550 with enhanced status 5.1.1 (RFC 3463: bad destination mailbox address).
      callback(smtpError(550, `<${address.address}>: recipient not accepted here`));
    },

    onData(stream, session, callback) {
      const mailFrom = session.envelope.mailFrom;
      const meta = {
        envelope: {
          from: mailFrom === false ? "" : mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        },
        receivedAtMs: clock.now(),
        remoteAddress: session.remoteAddress,
      };
      // A return arrives when its last byte does: timed at DATA's start, a slowly delivered
      // return would look faster than it was. The stream ends at the "." line.
      stream.once("end", () => {
        meta.receivedAtMs = clock.now();
      });
      options.spool
        .write(stream, () => meta, { maxBytes })
        .then(
          async (id) => {
            if (stream.sizeExceeded) {
              // Counted differently from the spool's limit; smtp-server answers 552 5.3.4.
              await options.spool.remove(id).catch(() => {});
              refused("listener-too-large", session.remoteAddress, `over ${maxBytes} bytes`);
              return callback(smtpError(552, "message exceeds the size limit"));
            }
            // The message and its meta are on disk (fsync'd, renamed, directory synced): now 250.
            callback(null, `Ok: queued as ${id}`);
            log.info("mail spooled", {
              spool: id,
              from: meta.envelope.from,
              to: meta.envelope.to.join(","),
              remoteAddress: meta.remoteAddress,
            });
            try {
              options.onSpooled(id);
            } catch (error) {
              log.error("onSpooled failed", { spool: id, error: errorText(error) });
            }
          },
          (error: unknown) => {
            if (error instanceof SpoolSizeError) {
              refused("listener-too-large", session.remoteAddress, `over ${maxBytes} bytes`);
              return callback(smtpError(552, "message exceeds the size limit"));
            }
            // Cut at the session limit in the middle of DATA: refused and logged as that already.
            if (cutSessions.has(session)) return callback(smtpError(421, "session time limit reached"));
            log.error("cannot spool mail, answered 451", {
              remoteAddress: session.remoteAddress,
              error: errorText(error),
            });
            // 451 4.3.0: the sender keeps the message and tries again later; nothing is lost.
            callback(smtpError(451, "local error in processing, try again later"));
          },
        );
    },
  });
  server.on("error", (error: Error) => log.error("inbound listener error", { error: errorText(error) }));
  const renewedTls = options.renewedTls;
  if (options.tls !== undefined && renewedTls !== undefined) {
    server.server.on("connection", () => {
      const identity = renewedTls();
      if (identity !== undefined) server.updateSecureContext({ key: identity.key, cert: identity.cert });
    });
  }
  // Delivering MTAs get the banner at once: the library's 100 ms early-talker pause would be
  // part of every measured round trip (prompt-greeting.ts).
  if (!greetPromptly(server)) log.warn("smtp-server internals changed: greeting with its 100 ms pause");

  const listening = once(server.server, "listening");
  server.listen(options.port, options.host ?? "127.0.0.1");
  await listening;
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of sessionTimers.values()) clearTimeout(timer);
        sessionTimers.clear();
        server.close(() => resolve());
      }),
  };
}

/** The open connection of a session (smtp-server keeps them in a set; its ids are the sessions'). */
function findConnection(
  server: SMTPServer,
  sessionId: string,
): { send(code: number, text: string): void } | undefined {
  const open = (
    server as unknown as { connections?: Set<{ id: string; send(code: number, text: string): void }> }
  ).connections;
  for (const connection of open ?? []) if (connection.id === sessionId) return connection;
  return undefined;
}

function splitAddress(address: string): [local: string, domain: string] {
  const at = address.lastIndexOf("@");
  if (at < 0) return [address, ""];
  return [address.slice(0, at), address.slice(at + 1).toLowerCase()];
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
