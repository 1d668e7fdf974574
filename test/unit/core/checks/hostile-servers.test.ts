import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../../../../core/checks/run-check.ts";
import {
  closedPort,
  type LineServer,
  type ServerConnection,
  startLineServer,
} from "../../../support/line-server.ts";

// Short phase deadlines keep hostile cases quick; the overall deadline bounds every check.
const OVERALL_MS = 6_000;
const OPTIONS: CheckOptions = {
  overallTimeoutMs: OVERALL_MS,
  timeouts: { greeting: 1_500, reply: 1_500, tls: 1_500, connect: 3_000 },
};

const servers: LineServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: (conn: ServerConnection) => void): Promise<number> {
  const server = await startLineServer(script);
  servers.push(server);
  return server.port;
}

async function check(url: string, options: CheckOptions = OPTIONS): Promise<CheckResult> {
  const result = await checkEndpoint(parseEndpointUrl(url), options);
  // Whatever the server does, the check ends by its own deadline.
  expect(result.totalMs).toBeLessThan(OVERALL_MS + 2_000);
  return result;
}

describe("hostile and broken servers", () => {
  it("connection refused", async () => {
    const result = await check(`smtp://127.0.0.1:${await closedPort()}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "refused", failedPhase: "connect" });
  });

  it("accepts but never greets", async () => {
    const port = await serve(() => {});
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting", failedPhase: "greeting" });
  });

  it("greeting without line end, connection kept open", async () => {
    const port = await serve((conn) => conn.write("220 mail.example.com ESMTP"));
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting" });
    expect(result.message).toContain('received so far: "220 mail.example.com ESMTP"');
  });

  it("greeting without line end, then close", async () => {
    const port = await serve((conn) => conn.socket.end("220 mail.example.com ESMTP"));
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "bad-greeting", failedPhase: "greeting" });
  });

  it("a 1 MB line", async () => {
    const port = await serve((conn) => conn.write(`220 ${"x".repeat(1024 * 1024)}\r\n`));
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "bad-greeting" });
    expect(result.message).toMatch(/line longer than 16384 bytes/);
  });

  it("garbage instead of a greeting", async () => {
    const port = await serve((conn) => conn.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    const result = await check(`imap://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "bad-greeting",
      serverReply: "HTTP/1.1 400 Bad Request",
    });
  });

  it("an HTTP server (speaks only when spoken to): no greeting", async () => {
    const http = createHttpServer((_req, res) => res.end("hello"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const result = await check(`pop3://127.0.0.1:${port}`);
      expect(result).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting" });
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it.each(["421 mail.example.com Service not available, closing channel", "554 No SMTP service here"])(
    "SMTP greeting %s",
    async (greeting) => {
      const port = await serve((conn) => conn.line(greeting));
      const result = await check(`smtp://127.0.0.1:${port}`);
      expect(result).toMatchObject({
        status: "CRITICAL",
        reason: "service-unavailable",
        serverReply: greeting,
      });
    },
  );

  it("an SMTP greeting with another code", async () => {
    const port = await serve((conn) => conn.line("250 hello?"));
    expect(await check(`smtp://127.0.0.1:${port}`)).toMatchObject({
      status: "CRITICAL",
      reason: "bad-greeting",
    });
  });

  it("IMAP * BYE greeting", async () => {
    const port = await serve((conn) => conn.line("* BYE Too many connections"));
    const result = await check(`imap://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "service-unavailable",
      serverReply: "* BYE Too many connections",
    });
  });

  it("POP3 -ERR greeting", async () => {
    const port = await serve((conn) => conn.line("-ERR [SYS/TEMP] Server overloaded"));
    const result = await check(`pop3://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "service-unavailable" });
  });

  it("drips one byte a second", async () => {
    const port = await serve((conn) => {
      const text = "220 mail.example.com ESMTP slowly\r\n";
      let index = 0;
      const timer = setInterval(() => {
        if (index >= text.length || conn.socket.destroyed) return clearInterval(timer);
        conn.write(text[index++] as string);
      }, 1_000);
      conn.socket.on("close", () => clearInterval(timer));
    });
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting" });
  });

  it("closes right after the greeting", async () => {
    const port = await serve((conn) => conn.socket.end("220 mail.example.com ESMTP\r\n"));
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "connection-closed",
      failedPhase: "capabilities",
    });
    expect(result.banner).toBe("220 mail.example.com ESMTP");
  });

  it("answers EHLO with garbage", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine(() => conn.line("hello there"));
    });
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "protocol-error",
      failedPhase: "capabilities",
    });
  });

  it("STARTTLS not offered", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.write("250-mail.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        else if (line === "QUIT") conn.line("221 bye");
      });
    });
    const required = await check(`smtp://127.0.0.1:${port}`);
    expect(required).toMatchObject({ status: "CRITICAL", reason: "no-starttls", startTls: "not-offered" });
    expect(required.capabilities).toEqual(["PIPELINING", "8BITMIME"]);
    const optional = await check(`smtp://127.0.0.1:${port}?starttls=optional`);
    expect(optional).toMatchObject({ status: "OK", startTls: "not-offered", quit: "ok" });
  });

  it("STARTTLS refused with 454", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.write("250-mail.example.com\r\n250 STARTTLS\r\n");
        else if (line === "STARTTLS") conn.line("454 4.7.0 TLS not available due to local problem");
      });
    });
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "starttls-refused",
      failedPhase: "starttls",
      serverReply: "454 4.7.0 TLS not available due to local problem",
    });
  });

  it("sends data after its STARTTLS go-ahead (command injection)", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.write("250-mail.example.com\r\n250 STARTTLS\r\n");
        else if (line === "STARTTLS") conn.write("220 go ahead\r\n250 injected\r\n");
      });
    });
    expect(await check(`smtp://127.0.0.1:${port}`)).toMatchObject({
      status: "CRITICAL",
      reason: "protocol-error",
    });
  });

  it("resets the connection during the TLS handshake", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.write("250-mail.example.com\r\n250 STARTTLS\r\n");
        else if (line === "STARTTLS") {
          conn.line("220 go ahead");
          // Wait for the ClientHello, then reset.
          conn.socket.once("data", () => conn.socket.resetAndDestroy());
        }
      });
    });
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "tls-failed", failedPhase: "tls" });
  });

  it("implicit TLS port that speaks plain text", async () => {
    const port = await serve((conn) => conn.line("* OK plain IMAP on a TLS port"));
    const result = await check(`imaps://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "tls-failed", failedPhase: "tls" });
    expect(result.message).toMatch(
      /^TLS handshake failed \(the server does not speak TLS on this port: it answers in plain text; ERR_SSL_WRONG_VERSION_NUMBER: .*wrong version number.*\)$/,
    );
  });

  it("accepts STLS, then answers the TLS handshake in plain text", async () => {
    const port = await serve((conn) => {
      conn.line("+OK POP3 ready");
      conn.onLine((line) => {
        if (line === "CAPA") conn.write("+OK\r\nSTLS\r\n.\r\n");
        else if (line === "STLS") {
          conn.line("+OK Begin TLS negotiation");
          conn.socket.once("data", () => conn.line("-ERR Unknown command"));
        }
      });
    });
    const result = await check(`pop3://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "tls-failed", failedPhase: "tls" });
    expect(result.message).toContain("the server answered STLS but did not start TLS: it speaks plain text");
    // OpenSSL's message ends with a newline; none may reach the JSON `message`.
    expect(result.message).not.toMatch(/\s\)?$|\n/);
  });

  it("an SMTP reply that never ends (continuation lines forever) is cut off", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine(() => conn.write("250-X\r\n".repeat(10_000)));
    });
    const result = await check(`smtp://127.0.0.1:${port}`);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "protocol-error" });
    expect(result.message).toContain("longer than 500 lines");
  });

  it("a server that never answers QUIT still passes", async () => {
    const port = await serve((conn) => {
      conn.line("220 mail.example.com ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.line("250 mail.example.com");
      });
    });
    const result = await check(`smtp://127.0.0.1:${port}?starttls=off`, {
      ...OPTIONS,
      timeouts: { ...OPTIONS.timeouts, quit: 500 },
    });
    expect(result).toMatchObject({ status: "OK", quit: "no-reply" });
  });
});
