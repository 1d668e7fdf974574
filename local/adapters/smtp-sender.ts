import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { createTransport } from "nodemailer";
import type { SMTPTransportOptions } from "nodemailer/lib/smtp-transport";
import { FileBackedValue } from "../../core/basics/file-backed-value.ts";
import type { Secret } from "../../core/basics/secret.ts";
import { trustContext } from "../../core/checks/trust-store.ts";
import type { MailSender, OutgoingMessage, SendReceipt } from "../../core/ports/mail-sender.ts";
import type { DkimSigning } from "./dkim-key.ts";

/*
 * Local mode's outbound mail (SES on AWS): nodemailer to a relay, or straight to the recipient
 * domain's MX hosts when no relay is configured. MX deliveries use one connection per message.
 * A relay connection may be kept open between messages (keepRelayConnection, what serve does):
 * a fresh STARTTLS session to a Postfix relay costs ~50 ms more than the message itself (the TLS
 * 1.3 session ticket / delayed ACK stall, see the checks' tls-handshake.ts), and that time would
 * be part of every measured round trip. A kept connection that turns out dead is replaced by a
 * fresh one for the same message, so a relay outage still shows as a failed send.
 */

/**
 * starttls: STARTTLS when the server offers it (RFC 3207), and then the certificate must verify;
 * opportunistic: STARTTLS when offered, certificate not verified (what opportunistic security
 * means in mail, RFC 7435: encryption against eavesdropping, not against an active attacker);
 * require-starttls: refuse to send without STARTTLS, certificate verified; implicit: TLS from the
 * first byte (port 465, RFC 8314), verified; none: never TLS.
 */
export type TlsMode = "starttls" | "opportunistic" | "require-starttls" | "implicit" | "none";

export interface SmtpSenderOptions {
  /** Send everything through this relay; without it, deliver to each recipient domain's MX. */
  relay?: { host: string; port?: number };
  tls?: TlsMode;
  /**
   * PEM file of the CA(s) to trust instead of Node's bundle (a private relay's CA). Read again
   * when it changes on disk: the next message goes over a connection that trusts the new one.
   */
  caFile?: string;
  /** Name to expect in the server's certificate, if not the host name. */
  servername?: string;
  /** Refuse certificates that do not verify (default true). */
  rejectUnauthorized?: boolean;
  /** Log in to the relay. Only ever sent over TLS. */
  auth?: { user: string; password: Secret };
  /** The name in EHLO; the machine's host name by default. */
  name?: string;
  /** DKIM-sign every message (outbound.dkim), so a receiver's DMARC can pass on it. */
  dkim?: DkimSigning;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Port of MX hosts (25); only tests change it. */
  mxPort?: number;
  resolveMx?: MxResolver;
  mxLookupTimeoutMs?: number;
  /** Keep one connection to the relay open between messages (call close() when done). */
  keepRelayConnection?: boolean;
  /**
   * A kept connection this old is replaced before the next message (default 5 min), so
   * the relay's certificate and STARTTLS are checked again by a real send now and then.
   */
  keptConnectionMaxAgeMs?: number;
}

/** Why a message was not sent; `temporary` when trying again later may work (4xx, network). */
export class SendError extends Error {
  override readonly name = "SendError";
  /** The server's reply code, when the server said no (e.g. 550). */
  readonly responseCode: number | undefined;
  /** The server's whole reply (e.g. "550 5.1.1 <x@y>: Recipient address rejected"). */
  readonly response: string | undefined;
  readonly temporary: boolean;
  /** nodemailer's error code (ECONNECTION, EENVELOPE, EAUTH, ...) or our own (EMX). */
  readonly code: string | undefined;
  readonly host: string | undefined;
  constructor(
    message: string,
    details: { responseCode?: number; response?: string; temporary: boolean; code?: string; host?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.responseCode = details.responseCode;
    this.response = details.response;
    this.temporary = details.temporary;
    this.code = details.code;
    this.host = details.host;
  }
}

export type MxResolver = (domain: string) => Promise<ReadonlyArray<{ exchange: string; priority: number }>>;

const KEPT_CONNECTION_MAX_AGE_MS = 5 * 60_000;
const DEFAULTS = { connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 30_000 };
const MX_LOOKUP_TIMEOUT_MS = 10_000;
/** No SMTP reply at all: the network or TLS failed, another host or a later try may work. */
const NETWORK_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
]);

/** OpenSSL / Node codes of a certificate that did not verify (expired, untrusted, wrong name). */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)/;

export class SmtpSender implements MailSender {
  readonly #options: SmtpSenderOptions;
  readonly #caFile: FileBackedValue<string> | undefined;
  /** The CA the next transport is made with: the CA file's content as last read. */
  #ca: string | undefined;
  #kept: ReturnType<typeof createTransport> | undefined;
  #keptSinceMs = 0;

  constructor(options: SmtpSenderOptions = {}) {
    const mode = options.tls ?? "starttls";
    // A password goes only over TLS whose certificate was checked (the config refuses the rest too).
    if (options.auth !== undefined && (mode === "none" || mode === "opportunistic")) {
      throw new RangeError(
        `SMTP auth needs verified TLS: a password is never sent in the clear or to an unchecked certificate (tls: ${mode}); use starttls or require-starttls`,
      );
    }
    this.#options = options;
    // Read now, so a wrong path fails before the first probe; then again whenever it changes.
    this.#caFile =
      options.caFile === undefined
        ? undefined
        : new FileBackedValue([options.caFile], ([path]) => readFileSync(path as string, "utf8"));
    this.#ca = this.#caFile?.current();
  }

  /** Sends to the relay, or per recipient domain to its MX hosts. Throws SendError. */
  async send(message: OutgoingMessage): Promise<SendReceipt> {
    this.#followCaFile();
    const relay = this.#options.relay;
    if (relay !== undefined) {
      if (!this.#options.keepRelayConnection) return this.#sendVia(relay.host, relay.port, message, true);
      try {
        return await this.#sendOn(this.#keptTransport(relay.host, relay.port), relay.host, message);
      } catch (error) {
        // A server's answer stands; a connection-level failure may only mean the kept
        // connection went stale (the relay closed it while idle): one fresh try decides.
        if (!(error instanceof SendError) || error.responseCode !== undefined) throw error;
        this.#dropKept();
        return this.#sendVia(relay.host, relay.port, message, true);
      }
    }
    const responses: string[] = [];
    for (const [domain, to] of byDomain(message.envelope.to)) {
      const hosts = await mxHostsFor(domain, {
        resolveMx: this.#options.resolveMx,
        timeoutMs: this.#options.mxLookupTimeoutMs,
      });
      responses.push(
        await this.#sendToFirstReachable(hosts, { ...message, envelope: { ...message.envelope, to } }),
      );
    }
    return { response: responses.join("; ") };
  }

  /** RFC 5321 §5.1: try the MX hosts in order while they cannot be reached; a reply ends it. */
  async #sendToFirstReachable(hosts: readonly string[], message: OutgoingMessage): Promise<string> {
    let last: SendError | undefined;
    for (const host of hosts) {
      try {
        return (await this.#sendVia(host, this.#options.mxPort ?? 25, message, false)).response ?? "";
      } catch (error) {
        if (!(error instanceof SendError) || !error.temporary || error.responseCode !== undefined)
          throw error;
        last = error;
      }
    }
    throw last ?? new SendError("no MX host to try", { temporary: true, code: "EMX" });
  }

  /**
   * A CA file replaced on disk (a relay's private CA or pinned self-signed certificate
   * renewed) replaces the kept connection too: it was set up with the old CA, and a relay
   * restarted with its new certificate would otherwise be refused until serve restarts.
   */
  #followCaFile(): void {
    if (this.#caFile === undefined) return;
    let ca: string;
    try {
      ca = this.#caFile.current();
    } catch (error) {
      throw new SendError(
        `cannot read the relay CA file ${this.#caFile.paths[0]}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        { temporary: true, code: "ECAFILE" },
        { cause: error },
      );
    }
    if (ca === this.#ca) return;
    this.#ca = ca;
    this.#dropKept();
  }

  /** Closes a kept relay connection (nothing to do otherwise). */
  close(): void {
    this.#dropKept();
  }

  #keptTransport(host: string, port: number | undefined) {
    const maxAgeMs = this.#options.keptConnectionMaxAgeMs ?? KEPT_CONNECTION_MAX_AGE_MS;
    if (this.#kept !== undefined && Date.now() - this.#keptSinceMs >= maxAgeMs) this.#dropKept();
    if (this.#kept === undefined) this.#keptSinceMs = Date.now();
    this.#kept ??= createTransport({
      ...this.#transportOptions(host, port, true),
      pool: true,
      maxConnections: 1,
      maxMessages: Number.POSITIVE_INFINITY,
    });
    return this.#kept;
  }

  #dropKept(): void {
    this.#kept?.close();
    this.#kept = undefined;
  }

  async #sendVia(host: string, port: number | undefined, message: OutgoingMessage, isRelay: boolean) {
    const transport = createTransport(this.#transportOptions(host, port, isRelay));
    try {
      return await this.#sendOn(transport, host, message);
    } finally {
      transport.close();
    }
  }

  async #sendOn(
    transport: ReturnType<typeof createTransport>,
    host: string,
    message: OutgoingMessage,
  ): Promise<SendReceipt> {
    try {
      const dkim = this.#options.dkim;
      const info = await transport.sendMail({
        envelope: { from: message.envelope.from, to: [...message.envelope.to] },
        raw: message.raw,
        // Signed as it streams out: the signature covers exactly the bytes sent.
        ...(dkim && {
          dkim: {
            domainName: dkim.domainName,
            keySelector: dkim.keySelector,
            privateKey: dkim.privateKey.reveal(),
          },
        }),
      });
      const rejected = info.rejectedErrors?.[0];
      if (info.rejected.length > 0) {
        // Probes have one recipient; a partly refused envelope still counts as not sent.
        throw toSendError(rejected ?? new Error(`recipients refused: ${info.rejected.join(", ")}`), host);
      }
      return { response: info.response } satisfies SendReceipt;
    } catch (error) {
      throw error instanceof SendError ? error : toSendError(error, host);
    }
  }

  #transportOptions(host: string, port: number | undefined, isRelay: boolean): SMTPTransportOptions {
    const o = this.#options;
    const mode = o.tls ?? "starttls";
    const auth = isRelay ? o.auth : undefined;
    return {
      host,
      port: port ?? (mode === "implicit" ? 465 : 25),
      secure: mode === "implicit",
      // With a password, opportunistic STARTTLS becomes mandatory: no login in the clear.
      requireTLS: mode === "require-starttls" || (mode === "starttls" && auth !== undefined),
      ignoreTLS: mode === "none",
      tls: {
        // Without a CA file, the checks' trust store: Node's bundle, the system's CAs and
        // NODE_EXTRA_CA_CERTS, so the relay is trusted exactly when a check of it says so.
        ...(this.#ca === undefined ? { secureContext: trustContext() } : { ca: this.#ca }),
        servername: (isRelay ? o.servername : undefined) ?? (isIpLiteral(host) ? undefined : host),
        rejectUnauthorized: mode === "opportunistic" ? false : (o.rejectUnauthorized ?? true),
      },
      ...(auth === undefined ? {} : { auth: { user: auth.user, pass: auth.password.reveal() } }),
      name: o.name ?? hostname(),
      connectionTimeout: o.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      greetingTimeout: o.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs,
      socketTimeout: o.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs,
      // nodemailer logs nothing unless asked; credentials must never reach a log.
      logger: false,
      debug: false,
    };
  }
}

/**
 * The hosts to deliver `domain`'s mail to, best first (RFC 5321 §5.1): MX records by
 * preference (ties keep the resolver's order), or the domain itself when it has no MX
 * (its A/AAAA record, the "implicit MX"). Throws SendError: permanent for a domain that does
 * not exist or publishes a null MX (RFC 7505), temporary when the lookup fails or times out.
 */
export async function mxHostsFor(
  domain: string,
  options: { resolveMx?: MxResolver; timeoutMs?: number } = {},
): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? MX_LOOKUP_TIMEOUT_MS;
  const resolveMx = options.resolveMx ?? systemResolveMx(timeoutMs);
  let records: ReadonlyArray<{ exchange: string; priority: number }>;
  try {
    records = await withTimeout(resolveMx(domain), timeoutMs);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENODATA") return [domain];
    if (code === "ENOTFOUND") {
      throw new SendError(`${domain}: no such domain`, { temporary: false, code: "EMX" }, { cause: error });
    }
    throw new SendError(
      `${domain}: MX lookup failed (${String(code ?? error)})`,
      { temporary: true, code: "EMX" },
      {
        cause: error,
      },
    );
  }
  if (records.length === 0) return [domain];
  const hosts = [...records]
    .sort((a, b) => a.priority - b.priority)
    .map((record) => record.exchange.replace(/\.$/, "").toLowerCase());
  if (hosts.some((host) => host === "")) {
    throw new SendError(`${domain}: publishes a null MX, it accepts no mail`, {
      temporary: false,
      code: "EMX",
    });
  }
  return [...new Set(hosts)];
}

function systemResolveMx(timeoutMs: number): MxResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  return (domain) => resolver.resolveMx(domain);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: "ETIMEOUT" })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function toSendError(error: unknown, host: string): SendError {
  const e = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    originalCode?: unknown;
    responseCode?: unknown;
    response?: unknown;
  };
  const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined;
  // nodemailer reports a certificate that did not verify as a socket error (ESOCKET) and keeps
  // OpenSSL's code in originalCode: call it what it is, and not temporary (retrying will not
  // make the certificate verify).
  const certificateProblem = typeof e.originalCode === "string" && CERTIFICATE_ERROR.test(e.originalCode);
  const code = certificateProblem ? "ETLS" : typeof e.code === "string" ? e.code : undefined;
  const temporary =
    responseCode !== undefined ? responseCode >= 400 && responseCode < 500 : NETWORK_CODES.has(code ?? "");
  const message = typeof e.message === "string" ? e.message : String(error);
  return new SendError(
    `${host}: ${message}`,
    {
      temporary,
      host,
      ...(responseCode === undefined ? {} : { responseCode }),
      ...(typeof e.response === "string" ? { response: e.response } : {}),
      ...(code === undefined ? {} : { code }),
    },
    { cause: error },
  );
}

function byDomain(recipients: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const address of recipients) {
    const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
    groups.set(domain, [...(groups.get(domain) ?? []), address]);
  }
  return groups;
}

function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(":");
}
