import { type LineServer, type ServerConnection, startLineServer, type TlsIdentity } from "./line-server.ts";
import {
  type ServerSaslExchange,
  type ServerSaslOptions,
  type ServerSaslStep,
  type ServerSaslVerdict,
  serverSasl,
} from "./sasl-server-side.ts";

export interface FakeAccessServerOptions extends ServerSaslOptions {
  /** Certificate for STARTTLS/STLS; without it the upgrade is not offered. */
  readonly tls?: TlsIdentity;
  /** Serve implicit TLS (993/995 style) with this identity. */
  readonly implicitTls?: TlsIdentity;
  readonly user?: string;
  readonly password?: string;
  /** Override the greeting line. */
  readonly greeting?: string;
  /** SASL mechanisms announced and verified (IMAP AUTH=..., POP3 SASL ...); PLAIN by default. */
  readonly mechanisms?: readonly string[];
  /** IMAP: announce LOGINDISABLED and refuse the LOGIN command. */
  readonly loginDisabled?: boolean;
  /** IMAP: more capabilities to announce as they are (e.g. Mailutils' XTLSREQUIRED). */
  readonly extraCapabilities?: readonly string[];
  /** IMAP: announce SASL-IR (initial response on the command); true by default. */
  readonly saslIr?: boolean;
  /** POP3: announce and accept USER/PASS; true by default. */
  readonly userPass?: boolean;
  /** Each finished login is pushed here as "MECHANISM verdict" (e.g. "SCRAM-SHA-256 ok"). */
  readonly logins?: string[];
}

/**
 * Runs one SASL exchange on a connection: each challenge goes out with `challengeLine`,
 * each client line is fed back, and `finish` answers the verdict. Returns the handler that
 * must receive the client's lines until the exchange ends.
 */
export function serveSasl(
  conn: ServerConnection,
  mechanism: string,
  exchange: ServerSaslExchange,
  initialResponse: string | undefined,
  challengeLine: (challenge: string) => string,
  finish: (verdict: ServerSaslVerdict) => void,
  logins: string[] | undefined,
): { pending: ((line: string) => void) | undefined } {
  const state: { pending: ((line: string) => void) | undefined } = { pending: undefined };
  const answer = (step: ServerSaslStep): void => {
    if ("challenge" in step) {
      conn.line(challengeLine(step.challenge));
      state.pending = (line) => answer(exchange.feed(line));
      return;
    }
    state.pending = undefined;
    logins?.push(`${mechanism} ${step.verdict}`);
    finish(step.verdict);
  };
  answer(exchange.feed(initialResponse));
  return state;
}

const account = (options: FakeAccessServerOptions) => ({
  user: options.user ?? "",
  password: options.password ?? "",
});

/**
 * A small IMAP server after RFC 3501: greeting with capabilities, CAPABILITY, STARTTLS,
 * LOGIN, AUTHENTICATE with the mechanisms asked for (verified, SASL-IR), NOOP, LOGOUT.
 */
export function startFakeImap(options: FakeAccessServerOptions): Promise<LineServer> {
  const mechanisms = (options.mechanisms ?? ["PLAIN"]).map((name) => name.toUpperCase());
  return startLineServer(
    (conn) => {
      let secure = Boolean(options.implicitTls);
      let sasl: { pending: ((line: string) => void) | undefined } = { pending: undefined };
      const caps = () =>
        [
          "IMAP4rev1",
          ...(options.saslIr === false ? [] : ["SASL-IR"]),
          ...mechanisms.map((name) => `AUTH=${name}`),
          ...(options.loginDisabled ? ["LOGINDISABLED"] : []),
          ...(options.extraCapabilities ?? []),
          ...(!secure && options.tls ? ["STARTTLS"] : []),
        ].join(" ");
      conn.line(options.greeting ?? `* OK [CAPABILITY ${caps()}] Fake IMAP ready.`);
      conn.onLine((line) => {
        if (sasl.pending) return sasl.pending(line);
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
          case "LOGIN": {
            if (options.loginDisabled) return conn.line(`${tag} NO [PRIVACYREQUIRED] LOGIN disabled.`);
            // Two quoted strings (RFC 3501 §4.3), backslash escaping \ and ".
            const quoted = /^"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/.exec(args.join(" "));
            const [user, password] = [quoted?.[1], quoted?.[2]].map((text) => text?.replace(/\\(.)/g, "$1"));
            const ok = user === options.user && password === options.password;
            options.logins?.push(`IMAP-LOGIN ${ok ? "ok" : "failed"}`);
            conn.line(ok ? `${tag} OK Logged in` : `${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`);
            break;
          }
          case "AUTHENTICATE": {
            const mechanism = (args[0] ?? "").toUpperCase();
            const exchange = mechanisms.includes(mechanism)
              ? serverSasl(mechanism, account(options), options)
              : undefined;
            if (!exchange) return conn.line(`${tag} NO Unsupported authentication mechanism.`);
            sasl = serveSasl(
              conn,
              mechanism,
              exchange,
              args[1],
              (challenge) => `+ ${challenge}`,
              (verdict) =>
                conn.line(
                  verdict === "ok"
                    ? `${tag} OK Logged in`
                    : verdict === "failed"
                      ? `${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`
                      : `${tag} BAD Authentication ${verdict}.`,
                ),
              options.logins,
            );
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

/** A small POP3 server after RFC 1939/2449/2595/5034: CAPA, STLS, USER/PASS, AUTH, QUIT. */
export function startFakePop3(options: FakeAccessServerOptions): Promise<LineServer> {
  const mechanisms = (options.mechanisms ?? ["PLAIN"]).map((name) => name.toUpperCase());
  const userPass = options.userPass ?? true;
  return startLineServer(
    (conn) => {
      let secure = Boolean(options.implicitTls);
      let user: string | undefined;
      let sasl: { pending: ((line: string) => void) | undefined } = { pending: undefined };
      conn.line(options.greeting ?? "+OK Fake POP3 ready.");
      conn.onLine((line) => {
        if (sasl.pending) return sasl.pending(line);
        const [verb = "", ...args] = line.split(" ");
        switch (verb.toUpperCase()) {
          case "CAPA":
            conn.line("+OK");
            for (const cap of [
              "TOP",
              "UIDL",
              ...(userPass ? ["USER"] : []),
              ...(mechanisms.length > 0 ? [`SASL ${mechanisms.join(" ")}`] : []),
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
            if (!userPass) return conn.line("-ERR USER not allowed here");
            user = args[0];
            conn.line("+OK");
            break;
          case "PASS": {
            const ok = user === options.user && args.join(" ") === options.password;
            options.logins?.push(`POP3-USER ${ok ? "ok" : "failed"}`);
            conn.line(ok ? "+OK Logged in." : "-ERR [AUTH] Authentication failed.");
            break;
          }
          case "AUTH": {
            const mechanism = (args[0] ?? "").toUpperCase();
            const exchange = mechanisms.includes(mechanism)
              ? serverSasl(mechanism, account(options), options)
              : undefined;
            if (!exchange) return conn.line("-ERR Unsupported authentication mechanism.");
            sasl = serveSasl(
              conn,
              mechanism,
              exchange,
              args[1],
              (challenge) => `+ ${challenge}`,
              (verdict) =>
                conn.line(verdict === "ok" ? "+OK Logged in." : `-ERR [AUTH] Authentication ${verdict}.`),
              options.logins,
            );
            break;
          }
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
