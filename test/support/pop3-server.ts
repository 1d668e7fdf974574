import { createServer, type Server, type Socket } from "node:net";

/** One message of the maildrop: its unique id and its raw text (CRLF line ends). */
export interface Pop3Message {
  readonly uid: string;
  readonly raw: string;
}

export interface Pop3ServerOptions {
  readonly user: string;
  readonly password: string;
  /** Accepted as the XOAUTH2 bearer token for `user`. */
  readonly accessToken?: string;
  /** After the greeting, read commands but answer none: a server that hangs. */
  readonly hang?: boolean;
  /** Called at each successful login, before its +OK (a test moves its clock here). */
  readonly onLogin?: () => void;
}

/**
 * A POP3 server on 127.0.0.1:0 (RFC 1939 with CAPA, UIDL, TOP and AUTH XOAUTH2) over one shared
 * maildrop, for tests of the POP3 client: each login sees the maildrop as it was then, and
 * deletions take effect at QUIT only, as RFC 1939 §6 says. Plain text only (no STLS).
 */
export class Pop3TestServer {
  readonly maildrop: Pop3Message[] = [];
  /** Every command received, PASS and AUTH payloads included, for assertions. */
  readonly commands: string[] = [];
  /**
   * Unique ids of messages another session expunged after this one's listing: TOP answers as
   * Dovecot does then, "-ERR Message N expunged.".
   */
  readonly expungedElsewhere = new Set<string>();
  logins = 0;
  private nextUid = 1;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: Pop3ServerOptions,
  ) {}

  static async start(options: Pop3ServerOptions): Promise<Pop3TestServer> {
    const server = createServer();
    const pop3 = new Pop3TestServer(server, options);
    server.on("connection", (socket) => pop3.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return pop3;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The URL fetch mode is configured with. */
  get url(): string {
    return `pop3://127.0.0.1:${this.port}?starttls=off`;
  }

  deliver(raw: Buffer | string): void {
    this.maildrop.push({ uid: `uid-${this.nextUid++}`, raw: raw.toString().replace(/\r?\n/g, "\r\n") });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const say = (line: string) => socket.write(`${line}\r\n`);
    let user: string | undefined;
    let listing: Pop3Message[] | undefined;
    const deleted = new Set<number>();
    let saslStep: "xoauth2" | undefined;
    let buffer = "";
    say("+OK POP3 test server ready");
    const login = () => {
      listing = [...this.maildrop];
      this.logins += 1;
      this.options.onLogin?.();
      say("+OK logged in");
    };
    const handle = (line: string) => {
      this.commands.push(line);
      if (this.options.hang) return;
      if (saslStep === "xoauth2") {
        saslStep = undefined;
        const payload = Buffer.from(line, "base64").toString();
        const expected = `user=${this.options.user}\x01auth=Bearer ${this.options.accessToken}\x01\x01`;
        return this.options.accessToken !== undefined && payload === expected
          ? login()
          : say("-ERR [AUTH] Authentication failed.");
      }
      const [verb = "", ...args] = line.split(" ");
      const number = Number(args[0]);
      const message = listing?.[number - 1];
      switch (verb.toUpperCase()) {
        case "CAPA":
          return say("+OK\r\nUSER\r\nUIDL\r\nTOP\r\nSASL XOAUTH2\r\n.");
        case "USER":
          user = args.join(" ");
          return say("+OK");
        case "PASS":
          return user === this.options.user && args.join(" ") === this.options.password
            ? login()
            : say("-ERR [AUTH] Authentication failed.");
        case "AUTH":
          if (args[0] !== "XOAUTH2") return say("-ERR unsupported mechanism");
          saslStep = "xoauth2";
          return say("+ ");
        case "UIDL": {
          if (listing === undefined) return say("-ERR not logged in");
          const lines = listing.flatMap((m, i) => (deleted.has(i + 1) ? [] : [`${i + 1} ${m.uid}`]));
          return say(["+OK", ...lines, "."].join("\r\n"));
        }
        case "TOP": {
          if (message === undefined || deleted.has(number)) return say("-ERR no such message");
          if (this.expungedElsewhere.has(message.uid)) return say(`-ERR Message ${number} expunged.`);
          const header = message.raw.slice(0, message.raw.indexOf("\r\n\r\n") + 2);
          const stuffed = header
            .split("\r\n")
            .map((l) => (l.startsWith(".") ? `.${l}` : l))
            .join("\r\n");
          return say(`+OK\r\n${stuffed}\r\n.`);
        }
        case "DELE":
          if (message === undefined || deleted.has(number)) return say("-ERR no such message");
          deleted.add(number);
          return say("+OK marked");
        case "QUIT":
          for (const index of deleted) {
            const gone = listing?.[index - 1];
            const at = gone === undefined ? -1 : this.maildrop.indexOf(gone);
            if (at >= 0) this.maildrop.splice(at, 1);
          }
          say("+OK bye");
          socket.end();
          return;
        default:
          return say("-ERR unknown command");
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      for (let at = buffer.indexOf("\r\n"); at >= 0; at = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        handle(line);
      }
    });
  }
}
