import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../../../../core/checks/run-check.ts";
import { LOCAL_NAMES, makeSelfSigned, type TestCert } from "../../../support/certs.ts";
import {
  type LineServer,
  type ServerConnection,
  startLineServer,
  type TlsIdentity,
} from "../../../support/line-server.ts";

// Servers that greet and then refuse service, scripted after what Cyrus, Courier and Exim
// send on loopback. A check must never say OK, nor blame a missing feature, for any of them.
const OPTIONS: CheckOptions = {
  overallTimeoutMs: 8_000,
  timeouts: { greeting: 2_000, reply: 2_000, tls: 2_000, login: 2_000, quit: 2_000 },
  thresholds: { verifyTls: false },
};
const LOGIN: CheckOptions = { ...OPTIONS, credentials: { user: "scout", password: new Secret("pw") } };

let identity: TestCert;
beforeAll(async () => {
  identity = await makeSelfSigned("CN=localhost", LOCAL_NAMES);
});

const servers: LineServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: (conn: ServerConnection) => void, implicitTls?: TlsIdentity): Promise<number> {
  const server = await startLineServer(script, implicitTls ? { implicitTls } : {});
  servers.push(server);
  return server.port;
}

const check = (url: string, options: CheckOptions = OPTIONS): Promise<CheckResult> =>
  checkEndpoint(parseEndpointUrl(url), options);

/** Cyrus in maintenance: a greeting, a refusal right after it, and the connection closed. */
function cyrusInMaintenance(refusal: string, closeAtOnce: boolean) {
  return (conn: ServerConnection) => {
    conn.write(`+OK cyrus.example.com Cyrus POP3 server ready\r\n${refusal}\r\n`);
    if (closeAtOnce) conn.socket.end();
    else conn.onLine(() => conn.socket.end());
  };
}

describe("POP3: a -ERR right after the greeting is a refusal, not a server without CAPA", () => {
  const MAINTENANCE = "-ERR [SYS/TEMP] Down for maintenance until 03:00";

  it("pop3s: CRITICAL service-unavailable with the server's words (was OK, capabilities [])", async () => {
    const port = await serve(cyrusInMaintenance(MAINTENANCE, false), identity);
    const result = await check(`pop3s://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "service-unavailable",
      failedPhase: "capabilities",
      serverReply: MAINTENANCE,
    });
    expect(result.message).toBe(
      "the server refused CAPA: [SYS/TEMP], a temporary system problem on the server (RFC 3206 §4)",
    );
  });

  it("pop3 with STLS required: service-unavailable, not no-starttls", async () => {
    const port = await serve(cyrusInMaintenance(MAINTENANCE, true));
    const result = await check(`pop3://127.0.0.1:${port}`);
    expect(result).toMatchObject({ reason: "service-unavailable", serverReply: MAINTENANCE });
  });

  it("with --user: service-unavailable with the server's words, not EPIPE during login", async () => {
    const port = await serve(cyrusInMaintenance(MAINTENANCE, true));
    const result = await check(`pop3://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({ reason: "service-unavailable", serverReply: MAINTENANCE });
  });

  it("a -ERR without a code, then a close: the close is reported as the refusal", async () => {
    const refusal = "-ERR Down for maintenance";
    const port = await serve(cyrusInMaintenance(refusal, false), identity);
    const result = await check(`pop3s://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "service-unavailable",
      failedPhase: "quit",
      serverReply: refusal,
    });
    expect(result.message).toMatch(/^the server refused CAPA and then closed the connection/);
  });

  it("a -ERR without a code, then a close, with --user: the refusal, not EPIPE", async () => {
    const refusal = "-ERR Down for maintenance";
    const port = await serve(cyrusInMaintenance(refusal, false));
    const result = await check(`pop3://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({
      reason: "service-unavailable",
      failedPhase: "login",
      serverReply: refusal,
    });
  });

  it("a -ERR without a code and STLS required: no-starttls says CAPA was refused, with its words", async () => {
    const refusal = "-ERR Down for maintenance";
    const port = await serve(cyrusInMaintenance(refusal, false));
    const result = await check(`pop3://127.0.0.1:${port}`);
    expect(result).toMatchObject({ reason: "no-starttls", serverReply: refusal });
    expect(result.message).toBe("STLS is not offered: the server refused CAPA");
  });

  it("a server without CAPA that goes on serving is still OK (RFC 2449: CAPA is optional)", async () => {
    const port = await serve((conn) => {
      conn.line("+OK old POP3 server ready");
      conn.onLine((line) => {
        const verb = line.split(" ")[0]?.toUpperCase();
        if (verb === "CAPA") conn.line("-ERR unknown command");
        else if (verb === "QUIT") conn.socket.end("+OK bye\r\n");
        else conn.line("+OK");
      });
    });
    const result = await check(`pop3://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({ status: "OK", login: "ok", quit: "ok", capabilities: [] });
  });
});

/** An IMAP server that accepts LOGIN; `afterLogin` scripts what follows the tagged OK. */
function imapServer(afterLogin: (conn: ServerConnection, tag: string) => void, greetingExtra = "") {
  return (conn: ServerConnection) => {
    conn.write(`* OK [CAPABILITY IMAP4rev1] Cyrus IMAP ready\r\n${greetingExtra}`);
    conn.onLine((line) => {
      const [tag = "", verb = ""] = line.split(" ");
      switch (verb.toUpperCase()) {
        case "LOGIN":
          afterLogin(conn, tag);
          break;
        case "NOOP":
          conn.line(`${tag} OK NOOP completed`);
          break;
        case "LOGOUT":
          conn.line("* BYE LOGOUT received");
          conn.socket.end(`${tag} OK Completed\r\n`);
          break;
        default:
          conn.line(`${tag} BAD unexpected`);
      }
    });
  };
}

describe("IMAP: an untagged BYE is seen wherever it arrives", () => {
  const BYE = "* BYE [ALERT] Down for maintenance";

  it("BYE right after login OK: CRITICAL service-unavailable with the alert (was OK, login ok)", async () => {
    const port = await serve(
      imapServer((conn, tag) => {
        conn.write(`${tag} OK [CAPABILITY IMAP4rev1] User logged in\r\n${BYE}\r\n`);
        conn.socket.end();
      }),
    );
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "service-unavailable",
      failedPhase: "login",
      serverReply: BYE,
    });
    expect(result.message).toBe(
      'the server said BYE right after accepting the login; the server\'s alert: "Down for maintenance"',
    );
  });

  it("BYE crossing the NOOP after login, the connection closed before NOOP's reply", async () => {
    const port = await serve((conn) => {
      conn.line("* OK [CAPABILITY IMAP4rev1] ready");
      conn.onLine((line) => {
        const [tag = "", verb = ""] = line.split(" ");
        if (verb === "LOGIN") conn.line(`${tag} OK User logged in`);
        else conn.socket.end(`${BYE}\r\n`);
      });
    });
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({ reason: "service-unavailable", failedPhase: "login", serverReply: BYE });
  });

  it("a close right after login OK is connection-closed, not OK", async () => {
    const port = await serve(imapServer((conn, tag) => conn.socket.end(`${tag} OK User logged in\r\n`)));
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "connection-closed", failedPhase: "login" });
    expect(result.message).toBe("the server closed the connection right after accepting the login");
  });

  it("a BYE that came before LOGOUT is not taken for LOGOUT's own", async () => {
    const bye = "* BYE [UNAVAILABLE] Shutting down";
    const port = await serve(imapServer(() => {}, `${bye}\r\n`));
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`);
    expect(result).toMatchObject({ reason: "service-unavailable", failedPhase: "quit", serverReply: bye });
  });

  it("two BYEs in LOGOUT's reply: the first is the server's own", async () => {
    const bye = "* BYE Server shutting down";
    const port = await serve((conn) => {
      conn.line("* OK [CAPABILITY IMAP4rev1] ready");
      conn.onLine((line) => {
        const tag = line.split(" ")[0];
        conn.socket.end(`${bye}\r\n* BYE LOGOUT received\r\n${tag} OK Completed\r\n`);
      });
    });
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`);
    expect(result).toMatchObject({ reason: "service-unavailable", failedPhase: "quit", serverReply: bye });
  });

  it("a close before any answer to LOGOUT (the only command without login) is not OK", async () => {
    const port = await serve((conn) => {
      conn.line("* OK [CAPABILITY IMAP4rev1] ready");
      conn.onLine(() => conn.socket.end());
    });
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "connection-closed", failedPhase: "quit" });
  });

  it("LOGOUT's BYE and then a close without the tagged OK is only an unfinished goodbye", async () => {
    const port = await serve((conn) => {
      conn.line("* OK [CAPABILITY IMAP4rev1] ready");
      conn.onLine(() => conn.socket.end("* BYE Logging out\r\n"));
    });
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`);
    expect(result).toMatchObject({ status: "OK", quit: "no-reply" });
  });

  it("an ordinary LOGOUT (one plain BYE, tagged OK) stays OK", async () => {
    const port = await serve(imapServer((conn, tag) => conn.line(`${tag} OK User logged in`)));
    const result = await check(`imap://127.0.0.1:${port}?starttls=off`, LOGIN);
    expect(result).toMatchObject({ status: "OK", login: "ok", quit: "ok" });
  });
});

describe("SMTP: a 421 read at QUIT is the server shutting the session", () => {
  it("is service-unavailable, not a polite goodbye", async () => {
    const reply = "421 4.3.2 Service shutting down";
    const port = await serve((conn) => {
      conn.line("220 mx.example.com ESMTP");
      conn.onLine((line) => {
        if (/^EHLO/i.test(line)) conn.write("250-mx.example.com\r\n250 PIPELINING\r\n");
        else conn.socket.end(`${reply}\r\n`);
      });
    });
    const result = await check(`smtp://127.0.0.1:${port}?starttls=off`);
    expect(result).toMatchObject({ reason: "service-unavailable", failedPhase: "quit", serverReply: reply });
  });
});
