import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply } from "../dialect.ts";
import { chooseLoginMechanism } from "../sasl/choose-mechanism.ts";
import { type SaslStep, type SaslTransport, saslLogin } from "../sasl/exchange.ts";
import { isSaslMechanismName } from "../sasl/mechanism-names.ts";

/**
 * IMAP (RFC 3501 §7, RFC 9051 §7): a greeting is one untagged `* OK|PREAUTH|BYE` line;
 * a command's reply is any number of untagged `* ...` lines closed by `tag OK|NO|BAD text`;
 * `+ ...` asks for more (SASL continuation).
 */
const GREETING = /^\* (OK|PREAUTH|BYE)(?: (.*))?$/i;
const TAGGED = /^(\S+) (OK|NO|BAD)(?: (.*))?$/i;
/** A CAPABILITY response code inside a status response, e.g. `* OK [CAPABILITY IMAP4rev1 ...] ready`. */
const CAPABILITY_CODE = /\[CAPABILITY ([^\]]*)\]/i;

export async function readImapGreeting(c: Conversation): Promise<Reply> {
  const line = await c.readLine();
  const match = GREETING.exec(line);
  if (!match) throw c.grammarError(`not an IMAP greeting: "${line.slice(0, 80)}"`, line);
  const code = (match[1] ?? "").toUpperCase();
  return { ok: code !== "BYE", code, lines: [line], text: line, raw: [line] };
}

export async function readImapReply(c: Conversation, tag: string): Promise<Reply> {
  const untagged: string[] = [];
  for (;;) {
    if (untagged.length >= MAX_REPLY_LINES)
      throw c.grammarError(`more than ${MAX_REPLY_LINES} untagged lines`, "");
    const line = await c.readLine();
    if (line.startsWith("* ")) {
      untagged.push(line);
      continue;
    }
    if (line === "+" || line.startsWith("+ "))
      return { ok: true, code: "+", lines: untagged, text: line, raw: [...untagged, line] };
    const match = TAGGED.exec(line);
    if (!match || match[1] !== tag)
      throw c.grammarError(`unexpected IMAP line: "${line.slice(0, 80)}"`, line);
    const code = (match[2] ?? "").toUpperCase();
    return { ok: code === "OK", code, lines: untagged, text: line, raw: [...untagged, line] };
  }
}

async function command(c: Conversation, text: string, logText = text): Promise<Reply> {
  const tag = c.nextTag();
  c.send(`${tag} ${text}`);
  const reply = await readImapReply(c, tag);
  // An untagged BYE means the server is closing the connection (RFC 3501 §7.1.5).
  const bye = reply.lines.find((line) => /^\* BYE\b/i.test(line));
  if (bye && !/^LOGOUT/i.test(text)) {
    throw c.fail("service-unavailable", `the server said BYE after ${logText.split(" ")[0]}`, bye);
  }
  return reply;
}

export function imapCapabilitiesFrom(reply: Reply): string[] | undefined {
  for (const line of [...reply.lines, reply.text]) {
    const untagged = /^\* CAPABILITY (.*)$/i.exec(line);
    const text = untagged?.[1] ?? CAPABILITY_CODE.exec(line)?.[1];
    if (text !== undefined) return text.trim().split(/\s+/).filter(Boolean);
  }
  return undefined;
}

/** IMAP quoted string (RFC 3501 §4.3); returns undefined for text a quoted string cannot carry. */
function quoted(text: string): string | undefined {
  if (/[\r\n\0]/.test(text)) return undefined;
  return `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

export const imapDialect: Dialect = {
  protocol: "imap",
  startTlsCapability: "STARTTLS",

  readGreeting: readImapGreeting,

  judgeGreeting(greeting) {
    if (greeting.code === "BYE") return "unavailable";
    return "ok";
  },

  async capabilities(c, { greeting, afterTls }) {
    // A server may announce capabilities in its greeting (saves a round trip); after
    // STARTTLS they must be asked for again (RFC 3501 §6.2.1).
    const announced = afterTls ? undefined : imapCapabilitiesFrom(greeting);
    if (announced) return announced;
    const reply = await command(c, "CAPABILITY");
    if (!reply.ok) throw c.fail("protocol-error", "the server refused CAPABILITY", reply.text);
    return imapCapabilitiesFrom(reply) ?? [];
  },

  async startTls(c) {
    return command(c, "STARTTLS");
  },

  async login(c, credentials, capabilities) {
    // LOGINDISABLED forbids the LOGIN command (RFC 3501 §6.2.3); SASL mechanisms the server
    // still announces (typically those that do not reveal the password) remain usable.
    const loginDisabled = hasCapability(capabilities, "LOGINDISABLED");
    const mechanism = chooseLoginMechanism(c, {
      sasl: imapAuthMechanisms(capabilities),
      ...(loginDisabled ? {} : { command: "IMAP-LOGIN" as const }),
      ...(credentials.mechanism ? { forced: credentials.mechanism } : {}),
      ...(loginDisabled ? { hint: "LOGINDISABLED: the server refuses plaintext login before TLS" } : {}),
    });
    const reply = isSaslMechanismName(mechanism)
      ? await saslLogin(c, imapSasl(capabilities), mechanism, credentials)
      : await loginCommand(c, credentials);
    if (reply.ok) return;
    if (reply.code === "BAD")
      throw c.fail(
        "protocol-error",
        `the server called the login command malformed (${mechanism})`,
        reply.text,
      );
    throw c.fail("auth-failed", `login rejected (${mechanism})`, reply.text);
  },

  async quit(c) {
    await command(c, "LOGOUT");
  },
};

/** Mechanisms from `AUTH=...` capabilities (RFC 3501 §6.2.2). */
export function imapAuthMechanisms(capabilities: readonly string[]): string[] {
  return capabilities.filter((cap) => /^AUTH=/i.test(cap)).map((cap) => cap.slice(5).toUpperCase());
}

/**
 * SASL over IMAP (RFC 3501 §6.2.2): `AUTHENTICATE mech`, challenges as `+ base64`. The initial
 * response rides on the command only with SASL-IR (RFC 4959); otherwise it answers the
 * server's first, empty, challenge.
 */
function imapSasl(capabilities: readonly string[]): SaslTransport {
  const initialResponseAllowed = hasCapability(capabilities, "SASL-IR");
  let tag = "";
  async function step(c: Conversation): Promise<SaslStep> {
    const reply = await readImapReply(c, tag);
    if (reply.code !== "+") return { reply };
    return { challenge: reply.text.slice(1).trim(), line: reply.text };
  }
  return {
    async start(c, mechanism, initial) {
      tag = c.nextTag();
      if (initial !== undefined && initialResponseAllowed) {
        c.send(`${tag} AUTHENTICATE ${mechanism} ${initial || "="}`);
        return step(c);
      }
      c.send(`${tag} AUTHENTICATE ${mechanism}`);
      if (initial === undefined) return step(c);
      const first = await step(c);
      if (!("challenge" in first)) return first;
      c.send(initial);
      return step(c);
    },
    async respond(c, response) {
      c.send(response);
      return step(c);
    },
  };
}

/** The LOGIN command (RFC 3501 §6.2.3): user and password as quoted strings. */
async function loginCommand(c: Conversation, credentials: Credentials): Promise<Reply> {
  const user = quoted(credentials.user);
  const password = quoted(credentials.password.reveal());
  if (!user || !password) {
    throw c.fail(
      "auth-unavailable",
      "the credentials contain characters the LOGIN command cannot carry, and no SASL mechanism is shared",
    );
  }
  return command(c, `LOGIN ${user} ${password}`, "LOGIN");
}
