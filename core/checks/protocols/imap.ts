import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply } from "../dialect.ts";
import { CheckFailure } from "../errors.ts";
import { chooseLoginMechanism } from "../sasl/choose-mechanism.ts";
import { type SaslStep, type SaslTransport, saslLogin } from "../sasl/exchange.ts";
import { isSaslMechanismName } from "../sasl/mechanism-names.ts";
import {
  imapLoginRefusal,
  imapRefusal,
  imapResponseCode,
  isRefusingBye,
  UNTAGGED_BYE,
  unsolicitedBye,
} from "./imap-refusals.ts";

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

/**
 * Reads untagged lines up to the tagged reply for `tag`. An untagged BYE is the server ending
 * the session wherever it comes (RFC 3501 §7.1.5): it is a failure at once, as the tagged
 * reply may never follow, unless the command asks for one (LOGOUT: `byeExpected`);
 * `byeWhen` says in the finding where the BYE came ("in reply to CAPABILITY").
 */
export async function readImapReply(
  c: Conversation,
  tag: string,
  { byeExpected = false, byeWhen }: { byeExpected?: boolean; byeWhen?: string } = {},
): Promise<Reply> {
  const untagged: string[] = [];
  for (;;) {
    if (untagged.length >= MAX_REPLY_LINES)
      throw c.grammarError(`more than ${MAX_REPLY_LINES} untagged lines`, "");
    const line = await c.readLine();
    if (!byeExpected && UNTAGGED_BYE.test(line)) throw unsolicitedBye(c, line, byeWhen);
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

/** Sends one tagged command; `logText` is how it may be named in a finding (no credentials). */
async function command(c: Conversation, text: string, logText = text): Promise<Reply> {
  const tag = c.nextTag();
  c.send(`${tag} ${text}`);
  return readImapReply(c, tag, { byeWhen: `in reply to ${logText.split(" ")[0]}` });
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
    if (!reply.ok) {
      throw imapRefusal(c, "CAPABILITY", reply, {
        reason: "protocol-error",
        message: "the server refused CAPABILITY",
      });
    }
    return imapCapabilitiesFrom(reply) ?? [];
  },

  async startTls(c) {
    const reply = await command(c, "STARTTLS");
    // A code that says more than "refused" (e.g. [UNAVAILABLE]) is reported as such.
    if (!reply.ok && imapResponseCode(reply.text)?.meaning) {
      throw imapRefusal(c, "STARTTLS", reply, {
        reason: "starttls-refused",
        message: "STARTTLS was refused",
      });
    }
    return reply;
  },

  async login(c, credentials, capabilities) {
    // GNU Mailutils' imap4d announces XTLSREQUIRED (not LOGINDISABLED) while it takes no
    // login of any kind before TLS, and refuses LOGIN with words that do not say why.
    if (hasCapability(capabilities, "XTLSREQUIRED")) {
      throw c.fail(
        "auth-unavailable",
        "the server takes no login before TLS (XTLSREQUIRED): use STARTTLS or imaps://",
      );
    }
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
    if (!reply.ok) throw imapLoginRefusal(c, reply, mechanism);
    await confirmSession(c);
  },

  async quit(c) {
    // Lines already waiting were sent before LOGOUT: a BYE among them is the server's own.
    for (let line = c.takeBufferedLine(); line !== undefined; line = c.takeBufferedLine()) {
      if (UNTAGGED_BYE.test(line)) throw unsolicitedBye(c, line);
    }
    const tag = c.nextTag();
    c.send(`${tag} LOGOUT`);
    const reply = await readImapReply(c, tag, { byeExpected: true });
    // LOGOUT is answered by one plain BYE (RFC 3501 §6.1.3). Another one before it, or one
    // with an alert or a refusal code, was the server ending the session on its own.
    const byes = reply.lines.filter((line) => UNTAGGED_BYE.test(line));
    const refusing = byes.find(isRefusingBye) ?? (byes.length > 1 ? byes[0] : undefined);
    if (refusing !== undefined) throw unsolicitedBye(c, refusing);
    if (!reply.ok) {
      throw imapRefusal(c, "LOGOUT", reply, {
        reason: "protocol-error",
        message: "the server refused LOGOUT",
      });
    }
  },
};

/**
 * A server may accept the login and end the session at once (Cyrus in maintenance: `a2 OK`
 * then `* BYE [ALERT] ...`). NOOP (RFC 3501 §6.1.2) asks for no BYE, so a BYE in its reply
 * (readImapReply) or a close before its tagged OK is the session refused. It costs one round
 * trip, not a fixed wait, and it sees a BYE sent before the NOOP as well as one crossing it.
 */
async function confirmSession(c: Conversation): Promise<void> {
  let reply: Reply;
  try {
    const tag = c.nextTag();
    c.send(`${tag} NOOP`);
    reply = await readImapReply(c, tag, { byeWhen: "right after accepting the login" });
  } catch (error) {
    if (error instanceof CheckFailure && error.reason === "connection-closed") {
      throw c.fail("connection-closed", "the server closed the connection right after accepting the login");
    }
    throw error;
  }
  if (!reply.ok) {
    throw imapRefusal(c, "NOOP after the login", reply, {
      reason: "protocol-error",
      message: "the server refused NOOP after the login",
    });
  }
}

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
