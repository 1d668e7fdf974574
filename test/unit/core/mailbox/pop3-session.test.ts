import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import type { MailboxLogin } from "../../../../core/mailbox/mailbox-login.ts";
import { openPop3Session } from "../../../../core/mailbox/pop3-session.ts";
import { MailboxError } from "../../../../core/ports/mailbox.ts";
import { Pop3TestServer } from "../../../support/pop3-server.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

const PASSWORD = "pop-secret-password";
const TOKEN = "bearer-token-value";
const servers: Pop3TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(options: { hang?: boolean } = {}): Promise<Pop3TestServer> {
  const started = await Pop3TestServer.start({
    user: "probe",
    password: PASSWORD,
    accessToken: TOKEN,
    ...options,
  });
  servers.push(started);
  return started;
}

function open(pop3: Pop3TestServer, login: MailboxLogin, timeoutMs = 5_000) {
  return openPop3Session({
    targetId: "hosted",
    endpoint: parseEndpointUrl(pop3.url),
    login,
    clock: { now: () => Date.now() },
    log: new RecordingLogger(),
    timeoutMs,
  });
}

const byPassword: MailboxLogin = { kind: "password", user: "probe", password: new Secret(PASSWORD) };
const probeMail = (n: number) =>
  `Received: from relay\r\nX-Scout-Probe: token-${n}\r\n.dot-stuffed: kept\r\nSubject: p${n}\r\n\r\nbody\r\n`;

describe("the POP3 session", () => {
  it("skips a message another session expunged after the listing, and reads the rest", async () => {
    const pop3 = await server();
    pop3.deliver(probeMail(1));
    pop3.deliver(probeMail(2));
    pop3.deliver(probeMail(3));
    pop3.expungedElsewhere.add("uid-2");
    const session = await open(pop3, byPassword);
    const messages = await session.probeMessages();
    expect(messages.map((message) => message.id).sort()).toEqual(["uid-1", "uid-3"]);
    await session.close();
  });

  it("lists the probes (only mail with X-Scout-Probe), reading their headers with TOP", async () => {
    const pop3 = await server();
    pop3.deliver("Subject: not a probe\r\n\r\nhello\r\n");
    pop3.deliver(probeMail(1));
    const session = await open(pop3, byPassword);
    const messages = await session.probeMessages();
    expect(messages).toMatchObject([
      {
        folder: "inbox",
        id: "uid-2",
        headerLines: ["Received: from relay", "X-Scout-Probe: token-1", ".dot-stuffed: kept", "Subject: p1"],
      },
    ]);
    expect(session.pushesNewMail).toBe(false);
    await session.close();
  });

  it("deletes at QUIT, and sees mail that came meanwhile at the next look (a new login)", async () => {
    const pop3 = await server();
    pop3.deliver(probeMail(1));
    const session = await open(pop3, byPassword);
    const [first] = await session.probeMessages();
    await session.delete(first as NonNullable<typeof first>);
    expect(pop3.maildrop).toHaveLength(1);
    pop3.deliver(probeMail(2));
    await session.waitForNews(Date.now());
    expect(pop3.maildrop.map((m) => m.uid)).toEqual(["uid-2"]);
    expect((await session.probeMessages()).map((m) => m.id)).toEqual(["uid-2"]);
    expect(pop3.logins).toBe(2);
    await session.close();
  });

  it("keeps a message's first sighting across looks", async () => {
    let nowMs = 1_000;
    const pop3 = await server();
    pop3.deliver(probeMail(1));
    const session = await openPop3Session({
      targetId: "hosted",
      endpoint: parseEndpointUrl(pop3.url),
      login: byPassword,
      clock: { now: () => nowMs },
      log: new RecordingLogger(),
    });
    expect((await session.probeMessages())[0]?.seenAtMs).toBe(1_000);
    nowMs = 5_000;
    await session.waitForNews(0);
    expect((await session.probeMessages())[0]?.seenAtMs).toBe(1_000);
    await session.close();
  });

  it("logs in with XOAUTH2 (RFC 5034, the user and bearer token)", async () => {
    const pop3 = await server();
    const session = await open(pop3, {
      kind: "oauth",
      user: "probe",
      accessToken: async () => new Secret(TOKEN),
    });
    expect(await session.probeMessages()).toEqual([]);
    expect(pop3.commands).toContain("AUTH XOAUTH2");
    await session.close();
  });

  it("names a refused login with the server's answer, never the password", async () => {
    const pop3 = await server();
    const failure = await open(pop3, { ...byPassword, password: new Secret("wrong-password") }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(MailboxError);
    expect(failure).toMatchObject({ step: "login", targetId: "hosted" });
    expect((failure as Error).message).toBe(
      "mailbox of target hosted: login: PASS refused: -ERR [AUTH] Authentication failed.",
    );
    const refused = await open(pop3, {
      kind: "oauth",
      user: "probe",
      accessToken: async () => new Secret("x"),
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ step: "login" });
    expect((refused as Error).message).not.toContain("x\u0001");
  });

  it("gives up on a server that stops answering, at its deadline", async () => {
    const pop3 = await server({ hang: true });
    await expect(open(pop3, byPassword, 300)).rejects.toMatchObject({
      name: "MailboxError",
      step: "connect",
      message: expect.stringContaining("no complete line before the deadline"),
    });
  });
});
