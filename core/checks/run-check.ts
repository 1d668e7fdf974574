import type { Socket } from "node:net";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { connectTcp, resolveHost } from "./connect.ts";
import { Conversation } from "./conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply } from "./dialect.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Protocol } from "./endpoint-kinds.ts";
import { CheckConfigError, CheckFailure, type Phase } from "./errors.ts";
import { DEFAULT_THRESHOLDS, evaluate, type Thresholds } from "./evaluate.ts";
import { LineChannel } from "./line-channel.ts";
import { type RelayTest, type RelayTestResult, tryRelay } from "./open-relay.ts";
import { withPortHint } from "./port-hints.ts";
import { imapDialect } from "./protocols/imap.ts";
import { pop3Dialect } from "./protocols/pop3.ts";
import { smtpDialect } from "./protocols/smtp.ts";
import type { CheckResult, PhaseTimings } from "./result.ts";
import type { LoginMechanismName } from "./sasl/mechanism-names.ts";
import { type TlsFacts, tlsFactsOf } from "./tls-facts.ts";
import { tlsHandshake } from "./tls-handshake.ts";
import { trustContext } from "./trust-store.ts";

/** One dialect per protocol, looked up by the endpoint's protocol. */
export const DIALECTS: Record<Protocol, Dialect> = {
  smtp: smtpDialect,
  imap: imapDialect,
  pop3: pop3Dialect,
};

/** Deadline of each phase, ms. A check also has an overall deadline that caps them all. */
export interface PhaseTimeouts {
  readonly resolve: number;
  readonly connect: number;
  readonly tls: number;
  readonly greeting: number;
  /** Each command's reply: capabilities, STARTTLS. */
  readonly reply: number;
  /** Login is slow on purpose on many servers (Dovecot delays failed logins by seconds). */
  readonly login: number;
  readonly quit: number;
}

export const DEFAULT_TIMEOUTS: PhaseTimeouts = {
  resolve: 5_000,
  connect: 10_000,
  tls: 10_000,
  greeting: 15_000,
  reply: 10_000,
  login: 20_000,
  quit: 3_000,
};
export const DEFAULT_OVERALL_TIMEOUT_MS = 30_000;
/** Longest wait for a TLS 1.3 session ticket after a STARTTLS handshake (it normally comes within 1 ms). */
const STARTTLS_TICKET_WAIT_MS = 20;

export interface CheckOptions {
  readonly overallTimeoutMs?: number;
  readonly timeouts?: Partial<PhaseTimeouts>;
  readonly credentials?: Credentials;
  /** Name announced in EHLO; defaults to this host's FQDN, or an address literal. */
  readonly clientName?: string;
  /** Trust only the CAs in this PEM file instead of the system's. */
  readonly caFile?: string;
  readonly sourceAddress?: string;
  readonly thresholds?: Partial<Thresholds>;
  /** SMTP only: run the open relay test (open-relay.ts) before any login. Off unless given. */
  readonly relayTest?: RelayTest;
  /**
   * Given the server's certificate chain as DER, leaf first, after the TLS handshake (DANE
   * compares it with TLSA records). Not read unless asked: it costs CPU on every check.
   */
  readonly onPeerChain?: (chain: Buffer[]) => void;
}

const TIMEOUT_OF: Record<Phase, keyof PhaseTimeouts> = {
  resolve: "resolve",
  connect: "connect",
  tls: "tls",
  greeting: "greeting",
  capabilities: "reply",
  starttls: "reply",
  capabilitiesAfterTls: "reply",
  relayTest: "reply",
  login: "login",
  quit: "quit",
};

interface Observations {
  address?: string;
  banner?: string;
  capabilities?: string[];
  capabilitiesAfterTls?: string[];
  startTls?: CheckResult["startTls"];
  responseStart?: number;
  tls?: TlsFacts;
  login: CheckResult["login"];
  authMechanism?: LoginMechanismName;
  relayTest?: RelayTestResult;
  quit?: "ok" | "no-reply";
  responseEnd?: number;
}

/**
 * Runs one check: resolve, connect, (TLS), greeting, capabilities, (STARTTLS, TLS,
 * capabilities again), (open relay test), (login), QUIT, each phase under its own deadline, all under the
 * overall one. Never throws for anything the server does: every outcome is a CheckResult.
 */
export async function checkEndpoint(endpoint: Endpoint, options: CheckOptions = {}): Promise<CheckResult> {
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const timings: PhaseTimings = {};
  const observed: Observations = {
    ...(endpoint.tls === "implicit"
      ? { startTls: "not-applicable" }
      : endpoint.startTls === "off"
        ? { startTls: "off" }
        : {}),
    login: options.credentials ? "failed" : "not-asked",
  };
  const sockets: Socket[] = [];
  let failure: CheckFailure | undefined;
  try {
    await dialogue(endpoint, options, observed, timings, sockets);
  } catch (error) {
    failure = withPortHint(endpoint, asCheckFailure(error));
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  const end = performance.now();
  // The relay test is a question of policy, not of speed: its time stays out of the response
  // time, so turning it on does not move a check across its thresholds.
  const responseMs =
    observed.responseStart === undefined
      ? 0
      : round((observed.responseEnd ?? end) - observed.responseStart - (timings.relayTest ?? 0));
  const verdict = evaluate(
    {
      banner: observed.banner,
      tls: observed.tls,
      responseMs,
      ...(observed.relayTest ? { relayTest: observed.relayTest } : {}),
    },
    failure,
    thresholds,
  );
  return {
    endpoint: endpoint.url,
    kind: endpoint.kind,
    protocol: endpoint.protocol,
    host: endpoint.host,
    port: endpoint.port,
    ...(observed.address ? { address: observed.address } : {}),
    status: verdict.status,
    reason: verdict.reason,
    message: verdict.message,
    problems: verdict.problems,
    ...(failure ? { failedPhase: failure.phase } : {}),
    ...(failure?.serverReply !== undefined ? { serverReply: failure.serverReply } : {}),
    startedAt,
    responseMs,
    totalMs: round(end - start),
    timings,
    ...(observed.banner !== undefined ? { banner: observed.banner } : {}),
    ...(observed.capabilities ? { capabilities: observed.capabilities } : {}),
    ...(observed.capabilitiesAfterTls ? { capabilitiesAfterTls: observed.capabilitiesAfterTls } : {}),
    ...(observed.startTls ? { startTls: observed.startTls } : {}),
    ...(observed.tls ? { tls: observed.tls } : {}),
    login: observed.login,
    ...(observed.authMechanism ? { authMechanism: observed.authMechanism } : {}),
    ...(observed.relayTest ? { openRelay: observed.relayTest.outcome, relayTest: observed.relayTest } : {}),
    ...(observed.quit ? { quit: observed.quit } : {}),
    thresholds,
  };
}

async function dialogue(
  endpoint: Endpoint,
  options: CheckOptions,
  observed: Observations,
  timings: PhaseTimings,
  sockets: Socket[],
): Promise<void> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const overallDeadline = Date.now() + (options.overallTimeoutMs ?? DEFAULT_OVERALL_TIMEOUT_MS);
  const dialect = DIALECTS[endpoint.protocol];
  const serverName = endpoint.tlsServerName ?? endpoint.host;
  const trust = trustContext(options.caFile);
  if (options.relayTest && endpoint.protocol !== "smtp") {
    throw new CheckConfigError(`the open relay test is SMTP only, not ${endpoint.kind}://`);
  }
  let conversation: Conversation | undefined;

  async function phase<T>(name: Phase, run: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Math.min(Date.now() + timeouts[TIMEOUT_OF[name]], overallDeadline);
    conversation?.enter(name, deadline);
    const began = performance.now();
    try {
      return await run(deadline);
    } finally {
      timings[name] = round(performance.now() - began);
    }
  }
  async function startTls(socket: Socket, awaitTicketMs = 0, upgradeCommand?: string): Promise<Socket> {
    const secure = await phase("tls", (deadline) =>
      tlsHandshake(socket, {
        serverName,
        trust,
        deadline,
        awaitTicketMs,
        ...(upgradeCommand ? { upgradeCommand } : {}),
        ...(options.onPeerChain ? { onPeerChain: options.onPeerChain } : {}),
      }),
    );
    sockets.push(secure);
    observed.tls = tlsFactsOf(secure, serverName);
    return secure;
  }

  const address = await phase("resolve", (deadline) => resolveHost(endpoint.host, endpoint.family, deadline));
  observed.address = address;
  observed.responseStart = performance.now();
  let socket = await phase("connect", (deadline) =>
    connectTcp(address, endpoint.port, {
      deadline,
      ...(options.sourceAddress ? { sourceAddress: options.sourceAddress } : {}),
    }),
  );
  sockets.push(socket);
  if (endpoint.tls === "implicit") socket = await startTls(socket);

  let channel = new LineChannel(socket);
  conversation = new Conversation(channel);
  const c = conversation;
  const greeting = await phase("greeting", () => dialect.readGreeting(c));
  observed.banner = greeting.raw.join("\n");
  judgeGreeting(c, dialect, greeting);

  const clientName = options.clientName ?? defaultClientName(socket);
  let capabilities = await phase("capabilities", () =>
    dialect.capabilities(c, { clientName, greeting, afterTls: false }),
  );
  observed.capabilities = capabilities;

  if (endpoint.tls === "starttls" && endpoint.startTls !== "off") {
    if (hasCapability(capabilities, dialect.startTlsCapability)) {
      const reply = await phase("starttls", () => dialect.startTls(c));
      if (!reply.ok)
        throw c.fail("starttls-refused", `${dialect.startTlsCapability} was refused`, reply.text);
      // Bytes already waiting after the go-ahead would be read as if they came over TLS: the
      // STARTTLS command-injection flaw (CVE-2011-0411 class). A sound server never sends any.
      if (channel.hasUnreadData()) {
        throw c.fail(
          "protocol-error",
          `the server sent data after its ${dialect.startTlsCapability} reply, before TLS`,
        );
      }
      // Client speaks first after STARTTLS: wait briefly for the TLS 1.3 ticket (see tls-handshake.ts).
      const secure = await startTls(channel.detach(), STARTTLS_TICKET_WAIT_MS, dialect.startTlsCapability);
      observed.startTls = "used";
      channel = new LineChannel(secure);
      c.channel = channel;
      capabilities = await phase("capabilitiesAfterTls", () =>
        dialect.capabilities(c, { clientName, greeting, afterTls: true }),
      );
      observed.capabilitiesAfterTls = capabilities;
    } else {
      observed.startTls = "not-offered";
      if (endpoint.startTls === "required") {
        const refused = c.notedRefusal;
        if (refused) {
          throw c.fail(
            "no-starttls",
            `${dialect.startTlsCapability} is not offered: the server refused ${refused.step}`,
            refused.text,
          );
        }
        throw c.fail(
          "no-starttls",
          `${dialect.startTlsCapability} is not offered (capabilities: ${capabilities.join(" ").slice(0, 200) || "none"})`,
        );
      }
    }
  }

  // Before any login: the question is what the server does for a client nobody vouches for.
  if (options.relayTest) {
    const relayTest = options.relayTest;
    observed.relayTest = await phase("relayTest", () => tryRelay(c, relayTest));
  }

  if (options.credentials) {
    const credentials = options.credentials;
    try {
      await phase("login", () => dialect.login(c, credentials, capabilities));
    } finally {
      if (c.authMechanism) observed.authMechanism = c.authMechanism;
    }
    observed.login = "ok";
  }
  observed.responseEnd = performance.now();

  // A slow or unfinished goodbye does not delay mail: note it, change no status. A refusal
  // read there (a BYE before LOGOUT's own, a 421, a -ERR, a close after an earlier refusal),
  // or a close before any answer at all, is the server refusing service, and counts: for an
  // IMAP check without login, LOGOUT is the only command the server is asked to answer.
  try {
    await phase("quit", () => dialect.quit(c));
    observed.quit = "ok";
  } catch (error) {
    if (!isUnfinishedGoodbye(error, c)) throw error;
    observed.quit = "no-reply";
  }
}

function isUnfinishedGoodbye(error: unknown, c: Conversation): boolean {
  if (!(error instanceof CheckFailure)) return false;
  if (error.reason === "timeout-reply") return true;
  return error.reason === "connection-closed" && c.linesReadInPhase > 0;
}

function asCheckFailure(error: unknown): CheckFailure {
  if (error instanceof CheckFailure) return error;
  if (error instanceof CheckConfigError)
    return new CheckFailure("config-error", "resolve", error.message, undefined, { cause: error });
  return new CheckFailure(
    "internal-error",
    "resolve",
    `unexpected error: ${(error as Error)?.stack ?? error}`,
    undefined,
    {
      cause: error,
    },
  );
}

function judgeGreeting(c: Conversation, dialect: Dialect, greeting: Reply): void {
  const verdict = dialect.judgeGreeting(greeting);
  if (verdict === "unavailable")
    throw c.fail("service-unavailable", "the server greets with a refusal", greeting.text);
  if (verdict === "bad") throw c.fail("bad-greeting", "unexpected greeting", greeting.text);
}

/** RFC 5321 §4.1.4: EHLO carries the client's FQDN, or an address literal when it has none. */
function defaultClientName(socket: Socket): string {
  const name = hostname();
  if (name.includes(".")) return name;
  const local = socket.localAddress ?? "127.0.0.1";
  return local.includes(":") ? `[IPv6:${local}]` : `[${local}]`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
