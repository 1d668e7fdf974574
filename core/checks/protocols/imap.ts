import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply, saslPlain } from "../dialect.ts";

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
    if (hasCapability(capabilities, "LOGINDISABLED")) {
      throw c.fail(
        "auth-unavailable",
        "the server refuses login here (LOGINDISABLED: plaintext login before TLS)",
      );
    }
    const reply = await authenticate(c, credentials, capabilities);
    if (reply.ok) return;
    if (reply.code === "BAD")
      throw c.fail("protocol-error", "the server called the login command malformed", reply.text);
    throw c.fail("auth-failed", "login rejected", reply.text);
  },

  async quit(c) {
    await command(c, "LOGOUT");
  },
};

async function authenticate(
  c: Conversation,
  credentials: Credentials,
  capabilities: readonly string[],
): Promise<Reply> {
  if (hasCapability(capabilities, "AUTH=PLAIN")) {
    if (hasCapability(capabilities, "SASL-IR")) {
      return command(c, `AUTHENTICATE PLAIN ${saslPlain(credentials)}`, "AUTHENTICATE PLAIN");
    }
    const tag = c.nextTag();
    c.send(`${tag} AUTHENTICATE PLAIN`);
    const challenge = await readImapReply(c, tag);
    if (challenge.code !== "+") return challenge;
    c.send(saslPlain(credentials));
    return readImapReply(c, tag);
  }
  const user = quoted(credentials.user);
  const password = quoted(credentials.password.reveal());
  if (!user || !password) {
    throw c.fail(
      "auth-unavailable",
      "the credentials contain characters LOGIN cannot carry and AUTH=PLAIN is not offered",
    );
  }
  return command(c, `LOGIN ${user} ${password}`, "LOGIN");
}
