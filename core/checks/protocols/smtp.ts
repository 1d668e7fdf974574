import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import type { Dialect, Reply } from "../dialect.ts";
import { chooseLoginMechanism } from "../sasl/choose-mechanism.ts";
import { type SaslStep, type SaslTransport, saslLogin } from "../sasl/exchange.ts";
import { isSaslMechanismName } from "../sasl/mechanism-names.ts";
import { smtpEnhancedCode, smtpLoginRefusal, smtpRefusal } from "./smtp-refusals.ts";

/**
 * SMTP (RFC 5321 §4.2): `code SP text` ends a reply, `code "-" text` continues it; every line
 * of one reply carries the same three-digit code, the first digit 2-5.
 */
const REPLY_LINE = /^([2-5][0-9][0-9])([ -]|$)(.*)$/;

/** Reply codes this dialogue relies on (RFC 5321 §4.2.2-4.2.3, RFC 3207, RFC 4954). */
export const SMTP_CODES = {
  ready: "220", // greeting; also "ready to start TLS" (RFC 3207)
  ok: "250",
  closing: "221",
  authSucceeded: "235", // RFC 4954
  authContinue: "334", // RFC 4954
  serviceUnavailable: "421", // may come at any time: the server is shutting the session
  noService: "554", // instead of 220: "no SMTP service here" (RFC 5321 §3.1)
  authFailed: "535", // RFC 4954
  commandUnrecognised: "500",
  commandNotImplemented: "502",
} as const;

export async function readSmtpReply(c: Conversation): Promise<Reply> {
  const lines: string[] = [];
  const raw: string[] = [];
  let code: string | undefined;
  for (;;) {
    if (lines.length >= MAX_REPLY_LINES) {
      throw c.grammarError(`reply longer than ${MAX_REPLY_LINES} lines`, lines[0] ?? "");
    }
    const line = await c.readLine();
    const match = REPLY_LINE.exec(line);
    if (!match) throw c.grammarError(`not an SMTP reply line: "${line.slice(0, 80)}"`, line);
    const [, lineCode = "", separator, text = ""] = match;
    if (code !== undefined && lineCode !== code) {
      throw c.grammarError(`reply code changed from ${code} to ${lineCode} inside one reply`, line);
    }
    code = lineCode;
    lines.push(text);
    raw.push(line);
    if (separator !== "-") {
      const positive = lineCode.startsWith("2") || lineCode.startsWith("3");
      return { ok: positive, code: lineCode, lines, text: line, raw };
    }
  }
}

/** Sends one command and reads its reply; a 421 ends the check (the server is shutting the session). */
export async function smtpCommand(c: Conversation, line: string): Promise<Reply> {
  c.send(line);
  const reply = await readSmtpReply(c);
  if (reply.code === SMTP_CODES.serviceUnavailable) {
    throw c.fail(
      "service-unavailable",
      `the server is closing the session (421) after ${line.split(" ")[0]}`,
      reply.text,
    );
  }
  return reply;
}

export const smtpDialect: Dialect = {
  protocol: "smtp",
  startTlsCapability: "STARTTLS",

  readGreeting: readSmtpReply,

  judgeGreeting(greeting) {
    if (greeting.code === SMTP_CODES.ready) return "ok";
    if (greeting.code === SMTP_CODES.serviceUnavailable || greeting.code === SMTP_CODES.noService)
      return "unavailable";
    return "bad";
  },

  async capabilities(c, { clientName }) {
    const ehlo = await smtpCommand(c, `EHLO ${clientName}`);
    if (ehlo.code === SMTP_CODES.ok) {
      // The first line is the server's name; each further line is one extension keyword with parameters.
      return ehlo.lines.slice(1).map((line) => line.trim());
    }
    if (ehlo.code === SMTP_CODES.commandUnrecognised || ehlo.code === SMTP_CODES.commandNotImplemented) {
      const helo = await smtpCommand(c, `HELO ${clientName}`); // RFC 5321 §3.2: fall back for old servers
      if (helo.code === SMTP_CODES.ok) return [];
      throw smtpRefusal(c, "HELO", helo, {
        reason: "protocol-error",
        message: "the server refused both EHLO and HELO",
      });
    }
    throw smtpRefusal(c, "EHLO", ehlo, { reason: "protocol-error", message: "the server refused EHLO" });
  },

  async startTls(c) {
    const reply = await smtpCommand(c, "STARTTLS");
    // "454 4.3.2 System not accepting network messages" is the service refused, not TLS.
    if (
      reply.code !== SMTP_CODES.ready &&
      smtpEnhancedCode(reply)?.meaning?.reason === "service-unavailable"
    ) {
      throw smtpRefusal(c, "STARTTLS", reply, {
        reason: "starttls-refused",
        message: "STARTTLS was refused",
      });
    }
    return { ...reply, ok: reply.code === SMTP_CODES.ready };
  },

  async login(c, credentials, capabilities) {
    const sasl = smtpAuthMechanisms(capabilities);
    const mechanism = chooseLoginMechanism(c, {
      sasl,
      ...(credentials.mechanism ? { forced: credentials.mechanism } : {}),
      ...(sasl.length === 0 ? { hint: "AUTH is often offered only after STARTTLS" } : {}),
    });
    if (!isSaslMechanismName(mechanism))
      throw c.fail("auth-unavailable", `${mechanism} is not an SMTP login`);
    const reply = await saslLogin(c, SMTP_SASL, mechanism, credentials);
    if (reply.code === SMTP_CODES.authSucceeded) return;
    throw smtpLoginRefusal(c, reply, mechanism);
  },

  async quit(c) {
    // 421 here was sent before QUIT was read: the server was shutting the session.
    const reply = await smtpCommand(c, "QUIT");
    if (!reply.ok) {
      throw smtpRefusal(c, "QUIT", reply, { reason: "protocol-error", message: "the server refused QUIT" });
    }
  },
};

/** SASL over SMTP (RFC 4954): `AUTH mech [initial-response]`, challenges as 334, "=" for an empty initial response. */
const SMTP_SASL: SaslTransport = {
  start: (c, mechanism, initial) =>
    smtpSaslStep(c, initial === undefined ? `AUTH ${mechanism}` : `AUTH ${mechanism} ${initial || "="}`),
  respond: smtpSaslStep,
};

async function smtpSaslStep(c: Conversation, line: string): Promise<SaslStep> {
  const reply = await smtpCommand(c, line);
  if (reply.code !== SMTP_CODES.authContinue) return { reply };
  return { challenge: (reply.lines[0] ?? "").trim(), line: reply.text };
}

/** Mechanisms from `AUTH PLAIN LOGIN` (RFC 4954) or the pre-standard `AUTH=PLAIN LOGIN`. */
export function smtpAuthMechanisms(capabilities: readonly string[]): string[] {
  const line = capabilities.find((cap) => /^AUTH[ =]/i.test(cap));
  return line ? line.slice(5).trim().toUpperCase().split(/\s+/).filter(Boolean) : [];
}
