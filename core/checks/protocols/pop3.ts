import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply } from "../dialect.ts";
import { chooseLoginMechanism } from "../sasl/choose-mechanism.ts";
import { type SaslStep, type SaslTransport, saslLogin } from "../sasl/exchange.ts";
import { isSaslMechanismName } from "../sasl/mechanism-names.ts";
import { hasKnownPop3Code, pop3LoginRefusal, pop3Refusal } from "./pop3-refusals.ts";

/**
 * POP3 (RFC 1939 §3, RFC 2449): a reply starts `+OK` or `-ERR`; a multi-line reply (CAPA)
 * continues until a line holding only ".", with leading dots doubled ("dot-stuffed").
 * `+ ` is a SASL continuation (RFC 5034).
 */
const STATUS_LINE = /^(\+OK|-ERR)(?:[ \t](.*))?$/;

export async function readPop3Reply(c: Conversation, multiline = false): Promise<Reply> {
  const line = await c.readLine();
  if (line === "+" || line.startsWith("+ "))
    return { ok: true, code: "+", lines: [], text: line, raw: [line] };
  const match = STATUS_LINE.exec(line);
  if (!match) throw c.grammarError(`not a POP3 status line: "${line.slice(0, 80)}"`, line);
  const code = match[1] ?? "";
  if (code !== "+OK" || !multiline) return { ok: code === "+OK", code, lines: [], text: line, raw: [line] };
  const body: string[] = [];
  for (;;) {
    if (body.length >= MAX_REPLY_LINES)
      throw c.grammarError(`multi-line reply longer than ${MAX_REPLY_LINES} lines`, line);
    const next = await c.readLine();
    if (next === ".") return { ok: true, code, lines: body, text: line, raw: [line, ...body] };
    body.push(next.startsWith(".") ? next.slice(1) : next);
  }
}

async function command(c: Conversation, text: string, multiline = false): Promise<Reply> {
  c.send(text);
  return readPop3Reply(c, multiline);
}

export const pop3Dialect: Dialect = {
  protocol: "pop3",
  startTlsCapability: "STLS",

  readGreeting: (c) => readPop3Reply(c),

  judgeGreeting(greeting) {
    return greeting.ok ? "ok" : "unavailable";
  },

  async capabilities(c) {
    const reply = await command(c, "CAPA", true);
    if (reply.ok) return reply.lines.map((line) => line.trim()).filter(Boolean);
    // A response code says why (Cyrus in maintenance: "-ERR [SYS/TEMP] ..."), and CAPA's
    // absence is not the reason.
    if (hasKnownPop3Code(reply)) {
      throw pop3Refusal(c, "CAPA", reply, { reason: "protocol-error", message: "the server refused CAPA" });
    }
    // CAPA is optional (RFC 2449): without a code, -ERR may only mean a server without it. If
    // the server hangs up afterwards, the -ERR was a refusal of service (conversation.ts).
    c.noteRefusal("CAPA", reply.text);
    return [];
  },

  async startTls(c) {
    const reply = await command(c, "STLS");
    if (!reply.ok && hasKnownPop3Code(reply)) {
      throw pop3Refusal(c, "STLS", reply, { reason: "starttls-refused", message: "STLS was refused" });
    }
    return reply;
  },

  async login(c, credentials, capabilities) {
    const sasl = saslMechanisms(capabilities);
    // With CAPA present, USER is announced only where USER/PASS is allowed (RFC 2449 §6.5).
    const userPassAllowed = capabilities.length === 0 || hasCapability(capabilities, "USER");
    const mechanism = chooseLoginMechanism(c, {
      sasl,
      ...(userPassAllowed ? { command: "POP3-USER" as const } : {}),
      ...(credentials.mechanism ? { forced: credentials.mechanism } : {}),
      ...(userPassAllowed ? {} : { hint: "no USER: plaintext login is often allowed only after STLS" }),
    });
    const reply = isSaslMechanismName(mechanism)
      ? await saslLogin(c, POP3_SASL, mechanism, credentials)
      : await userPass(c, credentials);
    if (reply.ok) return;
    throw pop3LoginRefusal(c, "the login", reply, mechanism);
  },

  async quit(c) {
    const reply = await command(c, "QUIT");
    if (!reply.ok) {
      throw pop3Refusal(c, "QUIT", reply, { reason: "protocol-error", message: "the server refused QUIT" });
    }
  },
};

function saslMechanisms(capabilities: readonly string[]): string[] {
  const line = capabilities.find((cap) => /^SASL\b/i.test(cap));
  return line ? line.slice(4).trim().toUpperCase().split(/\s+/).filter(Boolean) : [];
}

/** SASL over POP3 (RFC 5034): `AUTH mech [initial-response]`, challenges as `+ base64`. */
const POP3_SASL: SaslTransport = {
  start: (c, mechanism, initial) =>
    pop3SaslStep(c, initial === undefined ? `AUTH ${mechanism}` : `AUTH ${mechanism} ${initial || "="}`),
  respond: pop3SaslStep,
};

async function pop3SaslStep(c: Conversation, line: string): Promise<SaslStep> {
  const reply = await command(c, line);
  if (reply.code !== "+") return { reply };
  return { challenge: reply.text.slice(1).trim(), line: reply.text };
}

/** USER and PASS (RFC 1939 §7): the password in the clear. */
async function userPass(c: Conversation, credentials: Credentials): Promise<Reply> {
  if (/[\r\n\0 ]/.test(credentials.user) || /[\r\n\0]/.test(credentials.password.reveal())) {
    throw c.fail("auth-unavailable", "the credentials contain characters USER/PASS cannot carry");
  }
  const user = await command(c, `USER ${credentials.user}`);
  if (!user.ok) throw pop3LoginRefusal(c, "USER", user, "POP3-USER");
  return command(c, `PASS ${credentials.password.reveal()}`);
}
