import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";

export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
}

/** One accepted connection of a scripted test server. */
export class ServerConnection {
  private buffer = "";
  private onLineHandler: ((line: string) => void) | undefined;

  constructor(public socket: Socket) {
    this.listen(socket);
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Writes one line with CRLF. */
  line(text: string): void {
    this.write(`${text}\r\n`);
  }

  onLine(handler: (line: string) => void): void {
    this.onLineHandler = handler;
  }

  /** Server side of STARTTLS: wrap the socket and go on reading lines over TLS. */
  upgrade(identity: TlsIdentity): void {
    this.socket.removeAllListeners("data");
    const secure = new TLSSocket(this.socket, { isServer: true, cert: identity.cert, key: identity.key });
    secure.on("error", () => {});
    this.socket = secure;
    this.buffer = "";
    this.listen(secure);
  }

  private listen(socket: Socket): void {
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.buffer += chunk.toString("utf8");
      for (let index = this.buffer.indexOf("\n"); index !== -1; index = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, index).replace(/\r$/, "");
        this.buffer = this.buffer.slice(index + 1);
        this.onLineHandler?.(line);
      }
    });
  }
}

export interface LineServer {
  readonly port: number;
  readonly connections: ServerConnection[];
  close(): Promise<void>;
}

/**
 * A real TCP server on 127.0.0.1, port 0, whose behaviour a test scripts per connection:
 * hostile peers (silence, garbage, drips, resets) as well as small protocol fakes.
 */
export async function startLineServer(
  onConnection: (connection: ServerConnection) => void,
  options: { implicitTls?: TlsIdentity; host?: string } = {},
): Promise<LineServer> {
  const connections: ServerConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on("close", () => sockets.delete(raw));
    raw.on("error", () => {});
    let socket: Socket = raw;
    if (options.implicitTls) {
      const secure = new TLSSocket(raw, {
        isServer: true,
        cert: options.implicitTls.cert,
        key: options.implicitTls.key,
      });
      secure.on("error", () => {});
      socket = secure;
      const connection = new ServerConnection(socket);
      connections.push(connection);
      secure.once("secure", () => onConnection(connection));
      return;
    }
    const connection = new ServerConnection(socket);
    connections.push(connection);
    onConnection(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}
