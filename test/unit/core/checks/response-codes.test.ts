import { afterAll, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import type { Reason } from "../../../../core/checks/reasons.ts";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../../../../core/checks/run-check.ts";
import { type LineServer, type ServerConnection, startLineServer } from "../../../support/line-server.ts";

// One row per response code: a real server on port 0 refuses one step with that reply, and
// the check must end with the reason the code means, quoting the server. The RFC that
// defines each code stands beside its row.
const OPTIONS: CheckOptions = {
  overallTimeoutMs: 8_000,
  timeouts: { greeting: 2_000, reply: 2_000, login: 2_000, quit: 2_000 },
  credentials: { user: "scout", password: new Secret("correct horse") },
};

const servers: LineServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function check(kind: string, script: (conn: ServerConnection) => void): Promise<CheckResult> {
  const server = await startLineServer(script);
  servers.push(server);
  return checkEndpoint(parseEndpointUrl(`${kind}://127.0.0.1:${server.port}?starttls=off`), OPTIONS);
}

type Row = [step: string, reply: string, reason: Reason, status: string, rfc: string];

describe("POP3 response codes (RFC 2449 §8, RFC 3206)", () => {
  const rows: Row[] = [
    [
      "CAPA",
      "-ERR [SYS/TEMP] Down for maintenance until 03:00",
      "service-unavailable",
      "CRITICAL",
      "RFC 3206 §4",
    ],
    ["PASS", "-ERR [SYS/PERM] Your mailbox is damaged", "service-unavailable", "CRITICAL", "RFC 3206 §4"],
    [
      "PASS",
      "-ERR [SYS/QUOTA] hierarchical: unknown sub-code",
      "service-unavailable",
      "CRITICAL",
      "RFC 2449 §8",
    ],
    ["PASS", "-ERR [IN-USE] Mailbox in use", "mailbox-in-use", "WARNING", "RFC 2449 §8.1.2"],
    ["PASS", "-ERR [LOGIN-DELAY] Minimum time between logins", "login-delay", "WARNING", "RFC 2449 §8.1.1"],
    ["PASS", "-ERR [AUTH] Authentication failed.", "auth-failed", "CRITICAL", "RFC 3206 §5"],
    ["PASS", "-ERR Invalid password", "auth-failed", "CRITICAL", "RFC 1939 §7"],
    ["USER", "-ERR TLS required to log in.", "auth-unavailable", "CRITICAL", "RFC 2595 §4 (Courier's words)"],
    [
      "USER",
      "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
      "auth-unavailable",
      "CRITICAL",
      "RFC 3206 §5 (Dovecot's words)",
    ],
    ["USER", "-ERR No such user", "auth-failed", "CRITICAL", "RFC 1939 §7"],
  ];
  it.each(rows)("%s answered %j is %s (%s, %s)", async (step, reply, reason, status) => {
    const result = await check("pop3", (conn) => {
      conn.line("+OK POP3 ready");
      conn.onLine((line) => {
        const verb = line.split(" ")[0]?.toUpperCase();
        if (verb === step) conn.line(reply);
        else if (verb === "CAPA") conn.write("+OK\r\nUSER\r\nAUTH-RESP-CODE\r\n.\r\n");
        else if (verb === "QUIT") conn.socket.end("+OK bye\r\n");
        else conn.line("+OK");
      });
    });
    expect(result).toMatchObject({ reason, status, serverReply: reply });
    if (step === "USER" && reason === "auth-failed")
      expect(result.message).toBe("the server refused USER, before any password was sent");
  });
});

describe("IMAP response codes (RFC 5530 §3, RFC 3501 §7.1)", () => {
  const rows: Row[] = [
    [
      "LOGIN",
      "NO [UNAVAILABLE] Authentication backend down",
      "service-unavailable",
      "CRITICAL",
      "RFC 5530 §3",
    ],
    ["LOGIN", "NO [AUTHENTICATIONFAILED] Authentication failed.", "auth-failed", "CRITICAL", "RFC 5530 §3"],
    ["LOGIN", "NO [AUTHORIZATIONFAILED] Not allowed", "auth-failed", "CRITICAL", "RFC 5530 §3"],
    ["LOGIN", "NO [EXPIRED] Password expired", "auth-expired", "CRITICAL", "RFC 5530 §3"],
    ["LOGIN", "NO [PRIVACYREQUIRED] Use TLS first", "auth-unavailable", "CRITICAL", "RFC 5530 §3"],
    ["LOGIN", "NO [CONTACTADMIN] Account disabled", "auth-failed", "CRITICAL", "RFC 5530 §3"],
    ["LOGIN", "NO [INUSE] Mailbox locked", "mailbox-in-use", "WARNING", "RFC 5530 §3"],
    ["LOGIN", "NO [LIMIT] Too many sessions", "over-limit", "WARNING", "RFC 5530 §3"],
    ["LOGIN", "NO [OVERQUOTA] Over quota", "over-limit", "WARNING", "RFC 5530 §3"],
    ["LOGIN", "NO [ALERT] Your account is locked", "auth-failed", "CRITICAL", "RFC 3501 §7.1"],
    [
      "LOGIN",
      "NO Plaintext login is disallowed on non-secure connections",
      "auth-unavailable",
      "CRITICAL",
      "RFC 3501 §6.2.3",
    ],
    ["LOGIN", "BAD Invalid arguments", "protocol-error", "CRITICAL", "RFC 3501 §7.1.3"],
    ["CAPABILITY", "NO [UNAVAILABLE] Try again later", "service-unavailable", "CRITICAL", "RFC 5530 §3"],
  ];
  it.each(rows)("%s answered %j is %s (%s, %s)", async (step, reply, reason, status) => {
    const result = await check("imap", (conn) => {
      conn.line("* OK IMAP ready");
      conn.onLine((line) => {
        const [tag = "", verb = ""] = line.split(" ");
        if (verb === step) conn.line(`${tag} ${reply}`);
        else if (verb === "CAPABILITY") conn.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
        else if (verb === "LOGOUT") conn.socket.end(`* BYE bye\r\n${tag} OK done\r\n`);
        else conn.line(`${tag} OK done`);
      });
    });
    expect(result).toMatchObject({ reason, status, serverReply: expect.stringContaining(reply) });
    if (reply.includes("[ALERT]")) expect(result.message).toContain('alert: "Your account is locked"');
  });

  it("an untagged BYE with a code in reply to LOGIN takes the code's reason (RFC 5530 §3)", async () => {
    const result = await check("imap", (conn) => {
      conn.line("* OK [CAPABILITY IMAP4rev1] ready");
      conn.onLine(() => conn.socket.end("* BYE [INUSE] Mailbox locked by another session\r\n"));
    });
    expect(result).toMatchObject({ reason: "mailbox-in-use", failedPhase: "login" });
  });
});

describe("SMTP enhanced status codes (RFC 3463, RFC 4954 §6)", () => {
  const rows: Row[] = [
    ["AUTH", "535 5.7.8 Authentication credentials invalid", "auth-failed", "CRITICAL", "RFC 4954 §6"],
    ["AUTH", "534 5.7.9 Authentication mechanism is too weak", "auth-unavailable", "CRITICAL", "RFC 4954 §6"],
    [
      "AUTH",
      "538 5.7.11 Encryption required for requested authentication mechanism",
      "auth-unavailable",
      "CRITICAL",
      "RFC 4954 §6",
    ],
    ["AUTH", "432 4.7.12 A password transition is needed", "auth-expired", "CRITICAL", "RFC 4954 §6"],
    ["AUTH", "454 4.7.0 Temporary authentication failure", "service-unavailable", "CRITICAL", "RFC 4954 §6"],
    ["AUTH", "530 5.7.0 Must issue a STARTTLS command first", "auth-unavailable", "CRITICAL", "RFC 4954 §6"],
    ["AUTH", "535 Authentication failed", "auth-failed", "CRITICAL", "RFC 4954 §6 (no enhanced code)"],
    ["AUTH", "421 4.3.2 Service shutting down", "service-unavailable", "CRITICAL", "RFC 5321 §3.8"],
    [
      "EHLO",
      "554 5.3.2 System not accepting network messages",
      "service-unavailable",
      "CRITICAL",
      "RFC 3463 §3.4",
    ],
    ["EHLO", "451 4.4.5 System congestion", "service-unavailable", "CRITICAL", "RFC 3463 §3.5"],
    ["EHLO", "550 5.7.1 Access denied", "protocol-error", "CRITICAL", "RFC 3463 §3.8: says no more than 550"],
  ];
  it.each(rows)("%s answered %j is %s (%s, %s)", async (step, reply, reason, status) => {
    const result = await check("submission", (conn) => {
      conn.line("220 mx.example.com ESMTP");
      conn.onLine((line) => {
        const verb = line.split(" ")[0]?.toUpperCase();
        if (verb === step) conn.line(reply);
        else if (verb === "EHLO") conn.write("250-mx.example.com\r\n250 AUTH PLAIN LOGIN\r\n");
        else if (verb === "QUIT") conn.socket.end("221 bye\r\n");
        else conn.line("500 unexpected");
      });
    });
    expect(result).toMatchObject({ reason, status, serverReply: reply });
  });
});

describe("a refused STARTTLS/STLS whose code says the service is refused", () => {
  const rows: [kind: string, reply: string, reason: Reason, rfc: string][] = [
    ["pop3", "-ERR [SYS/TEMP] Try again later", "service-unavailable", "RFC 3206 §4"],
    ["pop3", "-ERR TLS not available", "starttls-refused", "RFC 2595 §4"],
    ["imap", "NO [UNAVAILABLE] TLS subsystem down", "service-unavailable", "RFC 5530 §3"],
    ["imap", "BAD TLS not available", "starttls-refused", "RFC 3501 §6.2.1"],
    ["smtp", "454 4.3.2 System not accepting network messages", "service-unavailable", "RFC 3463 §3.4"],
    ["smtp", "454 4.7.0 TLS not available due to local problem", "starttls-refused", "RFC 3207 §4"],
  ];
  it.each(rows)("%s answered %j is %s (%s)", async (kind, reply, reason) => {
    const server = await startLineServer((conn) => {
      const greeting = { pop3: "+OK ready", imap: "* OK ready", smtp: "220 mx ESMTP" }[kind];
      conn.line(greeting ?? "");
      conn.onLine((line) => {
        const [first = "", second = ""] = line.split(" ");
        if (kind === "pop3") {
          if (first === "CAPA") conn.write("+OK\r\nSTLS\r\n.\r\n");
          else if (first === "STLS") conn.line(reply);
          else conn.socket.end("+OK bye\r\n");
        } else if (kind === "imap") {
          if (second === "CAPABILITY") conn.write(`* CAPABILITY IMAP4rev1 STARTTLS\r\n${first} OK done\r\n`);
          else if (second === "STARTTLS") conn.line(`${first} ${reply}`);
          else conn.socket.end(`* BYE bye\r\n${first} OK done\r\n`);
        } else if (first === "EHLO") conn.write("250-mx\r\n250 STARTTLS\r\n");
        else if (first === "STARTTLS") conn.line(reply);
        else conn.socket.end("221 bye\r\n");
      });
    });
    servers.push(server);
    const result = await checkEndpoint(parseEndpointUrl(`${kind}://127.0.0.1:${server.port}`), {
      ...OPTIONS,
      credentials: undefined,
    });
    expect(result).toMatchObject({
      reason,
      failedPhase: "starttls",
      serverReply: expect.stringContaining(reply),
    });
  });
});
