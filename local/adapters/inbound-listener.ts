import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
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
  maxClients?: number;
}

export interface InboundListener {
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
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
    maxClients: options.maxClients ?? 100,
    logger: false,
    // The client's name is never used (the spool keeps the address), and a reverse lookup
    // is one more network step that can stall before the banner.
    disableReverseLookup: true,

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      if (isAcceptedRecipient(address.address, options.returnAddress, options.inboundDomain)) {
        return callback();
      }
      log.info("recipient refused", { recipient: address.address, remoteAddress: session.remoteAddress });
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
      options.spool.write(stream, meta, { maxBytes }).then(
        async (id) => {
          if (stream.sizeExceeded) {
            // Counted differently from the spool's limit; smtp-server answers 552 5.3.4.
            await options.spool.remove(id).catch(() => {});
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
            log.warn("mail refused: too big", { remoteAddress: session.remoteAddress, maxBytes });
            return callback(smtpError(552, "message exceeds the size limit"));
          }
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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
