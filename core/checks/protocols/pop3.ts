import { type Conversation, MAX_REPLY_LINES } from "../conversation.ts";
import { type Credentials, type Dialect, hasCapability, type Reply, saslPlain } from "../dialect.ts";
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
    const reply = await authenticate(c, credentials, capabilities);
    if (reply.ok) return;
    throw pop3LoginRefusal(c, "the login", reply);
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

async function authenticate(
  c: Conversation,
  credentials: Credentials,
  capabilities: readonly string[],
): Promise<Reply> {
  const sasl = saslMechanisms(capabilities);
  // With CAPA present, USER is announced only where USER/PASS is allowed (RFC 2449 §6.5).
  const userPassAllowed = capabilities.length === 0 || hasCapability(capabilities, "USER");
  if (userPassAllowed) {
    if (/[\r\n\0 ]/.test(credentials.user) || /[\r\n\0]/.test(credentials.password.reveal())) {
      throw c.fail("auth-unavailable", "the credentials contain characters USER/PASS cannot carry");
    }
    const user = await command(c, `USER ${credentials.user}`);
    if (!user.ok) throw pop3LoginRefusal(c, "USER", user);
    return command(c, `PASS ${credentials.password.reveal()}`);
  }
  if (sasl.includes("PLAIN")) {
    const reply = await command(c, `AUTH PLAIN ${saslPlain(credentials)}`);
    return reply;
  }
  throw c.fail(
    "auth-unavailable",
    `the server offers no usable login here (no USER; SASL: ${sasl.join(" ") || "none"}); plaintext login is often allowed only after STLS`,
  );
}
