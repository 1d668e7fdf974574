import { type LineServer, type ServerConnection, startLineServer, type TlsIdentity } from "./line-server.ts";

export interface FakeAccessServerOptions {
  /** Certificate for STARTTLS/STLS; without it the upgrade is not offered. */
  readonly tls?: TlsIdentity;
  /** Serve implicit TLS (993/995 style) with this identity. */
  readonly implicitTls?: TlsIdentity;
  readonly user?: string;
  readonly password?: string;
  /** Override the greeting line. */
  readonly greeting?: string;
}

/**
 * A small IMAP server after RFC 3501: greeting with capabilities, CAPABILITY, STARTTLS,
 * LOGIN, AUTHENTICATE PLAIN (SASL-IR), NOOP, LOGOUT. Enough to exercise the checker's dialogue.
 */
export function startFakeImap(options: FakeAccessServerOptions): Promise<LineServer> {
  return startLineServer(
    (conn) => {
      let secure = Boolean(options.implicitTls);
      const caps = () =>
        ["IMAP4rev1", "SASL-IR", "AUTH=PLAIN", ...(!secure && options.tls ? ["STARTTLS"] : [])].join(" ");
      conn.line(options.greeting ?? `* OK [CAPABILITY ${caps()}] Fake IMAP ready.`);
      conn.onLine((line) => {
        const [tag = "", verb = "", ...args] = line.split(" ");
        switch (verb.toUpperCase()) {
          case "CAPABILITY":
            conn.line(`* CAPABILITY ${caps()}`);
            conn.line(`${tag} OK Capability completed.`);
            break;
          case "STARTTLS":
            if (!options.tls || secure) return conn.line(`${tag} BAD STARTTLS not available`);
            conn.line(`${tag} OK Begin TLS negotiation now.`);
            conn.upgrade(options.tls);
            secure = true;
            break;
          case "LOGIN":
            answerLogin(conn, tag, args[0]?.replace(/"/g, ""), args[1]?.replace(/"/g, ""), options);
            break;
          case "AUTHENTICATE": {
            const decoded = Buffer.from(args[1] ?? "", "base64")
              .toString("utf8")
              .split("\0");
            answerLogin(conn, tag, decoded[1], decoded[2], options);
            break;
          }
          case "NOOP":
            conn.line(`${tag} OK NOOP completed.`);
            break;
          case "LOGOUT":
            conn.line("* BYE Logging out");
            conn.line(`${tag} OK Logout completed.`);
            conn.socket.end();
            break;
          default:
            conn.line(`${tag} BAD Unknown command`);
        }
      });
    },
    options.implicitTls ? { implicitTls: options.implicitTls } : {},
  );
}

function answerLogin(
  conn: ServerConnection,
  tag: string,
  user: string | undefined,
  password: string | undefined,
  options: FakeAccessServerOptions,
): void {
  if (user === options.user && password === options.password) conn.line(`${tag} OK Logged in`);
  else conn.line(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`);
}

/** A small POP3 server after RFC 1939/2449/2595: CAPA, STLS, USER/PASS, QUIT. */
export function startFakePop3(options: FakeAccessServerOptions): Promise<LineServer> {
  return startLineServer(
    (conn) => {
      let secure = Boolean(options.implicitTls);
      let user: string | undefined;
      conn.line(options.greeting ?? "+OK Fake POP3 ready.");
      conn.onLine((line) => {
        const [verb = "", ...args] = line.split(" ");
        switch (verb.toUpperCase()) {
          case "CAPA":
            conn.line("+OK");
            for (const cap of [
              "TOP",
              "UIDL",
              "USER",
              "SASL PLAIN",
              ...(!secure && options.tls ? ["STLS"] : []),
            ])
              conn.line(cap);
            conn.line(".");
            break;
          case "STLS":
            if (!options.tls || secure) return conn.line("-ERR STLS not available");
            conn.line("+OK Begin TLS negotiation");
            conn.upgrade(options.tls);
            secure = true;
            break;
          case "USER":
            user = args[0];
            conn.line("+OK");
            break;
          case "PASS":
            if (user === options.user && args.join(" ") === options.password) conn.line("+OK Logged in.");
            else conn.line("-ERR [AUTH] Authentication failed.");
            break;
          case "QUIT":
            conn.line("+OK Logging out.");
            conn.socket.end();
            break;
          default:
            conn.line("-ERR Unknown command");
        }
      });
    },
    options.implicitTls ? { implicitTls: options.implicitTls } : {},
  );
}
