import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";

/**
 * A POP3 session over implicit TLS that logs in and stays in the TRANSACTION state, holding
 * the maildrop's lock as a mail client does, until `close()`. Servers that lock the maildrop
 * refuse a second login meanwhile ([IN-USE], RFC 2449).
 */
export class HeldPop3Session {
  private buffer = "";
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: TLSSocket) {
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.buffer += text;
      this.waiting?.();
    });
    socket.on("error", () => {});
  }

  static async open(options: {
    host: string;
    port: number;
    caFile: string;
    user: string;
    password: string;
  }): Promise<HeldPop3Session> {
    const socket = connect({
      host: options.host,
      port: options.port,
      ca: readFileSync(options.caFile),
      servername: "localhost",
    });
    await once(socket, "secureConnect");
    const session = new HeldPop3Session(socket);
    await session.expectOk();
    await session.command(`USER ${options.user}`);
    await session.command(`PASS ${options.password}`);
    return session;
  }

  private async command(line: string): Promise<void> {
    this.socket.write(`${line}\r\n`);
    await this.expectOk();
  }

  /** Waits for one reply line; anything but +OK is an error naming the reply. */
  private async expectOk(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!this.buffer.includes("\r\n")) {
      if (Date.now() > deadline || this.socket.destroyed) throw new Error("POP3 session: no reply");
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 250);
      });
    }
    const end = this.buffer.indexOf("\r\n");
    const line = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 2);
    if (!line.startsWith("+OK")) throw new Error(`POP3 session: ${line}`);
  }

  /** QUIT, and wait until the server has closed: the lock is released by then. */
  async close(): Promise<void> {
    const closed = once(this.socket, "close");
    this.socket.end("QUIT\r\n");
    await closed;
  }
}
