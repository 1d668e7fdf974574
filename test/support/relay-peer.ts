import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import type { TlsIdentity } from "./line-server.ts";

/** How the peer answers an unauthenticated client's envelope. */
export type RelayPolicy = "refuse-relay" | "open-relay" | "greylist" | "refuse-sender";

export interface RelayPeer {
  readonly port: number;
  /**
   * Every envelope command the server saw, in order, with the session's TLS and login:
   * "MAIL FROM:<a> tls", "RCPT TO:<b> plain", "MAIL FROM:<a> tls as scout", "DATA".
   */
  readonly commands: string[];
  close(): Promise<void>;
}

/** The replies real servers give, each with its enhanced status code (RFC 3463). */
const REFUSALS = {
  relay: { code: 554, text: "5.7.1 <relay-test@example.com>: Relay access denied" },
  greylist: { code: 451, text: "4.7.1 Greylisted, please try again later" },
  sender: { code: 553, text: "5.7.1 Sender address rejected: not owned by any user here" },
} as const;

function refusal(which: keyof typeof REFUSALS): Error {
  const { code, text } = REFUSALS[which];
  return Object.assign(new Error(text), { responseCode: code });
}

function sessionFacts(session: SMTPServerSession): string {
  const transport = session.secure ? "tls" : "plain";
  return session.user ? `${transport} as ${session.user}` : transport;
}

/**
 * A real SMTP server (the smtp-server library) on 127.0.0.1, port 0, with a relay policy: it
 * records the envelope commands it receives and whether the session was under TLS, and any
 * DATA that reaches it, so a test can prove what a client asked and what it never sent.
 */
export async function startRelayPeer(options: {
  policy: RelayPolicy;
  identity: TlsIdentity;
  /** Accept AUTH PLAIN/LOGIN for this user and password. */
  login?: { user: string; password: string };
}): Promise<RelayPeer> {
  const commands: string[] = [];
  const server = new SMTPServer({
    key: options.identity.key,
    cert: options.identity.cert,
    name: "relay.example.test",
    banner: "Scout relay test peer",
    authOptional: true,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, callback) {
      const login = options.login;
      if (login && auth.username === login.user && auth.password === login.password)
        return callback(null, { user: auth.username });
      return callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
    },
    logger: false,
    closeTimeout: 50,
    onMailFrom(address, session, callback) {
      commands.push(`MAIL FROM:<${address.address}> ${sessionFacts(session)}`);
      if (options.policy === "refuse-sender") return callback(refusal("sender"));
      return callback();
    },
    onRcptTo(address, session, callback) {
      commands.push(`RCPT TO:<${address.address}> ${sessionFacts(session)}`);
      if (options.policy === "refuse-relay") return callback(refusal("relay"));
      if (options.policy === "greylist") return callback(refusal("greylist"));
      return callback();
    },
    onData(stream, _session, callback) {
      commands.push("DATA");
      stream.resume();
      stream.on("end", () => callback());
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, commands, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
