import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** A minimal SMTP client on a raw socket: one reply (multi-line aware) per call. */
export class RawClient {
  private buffer = "";
  private waiting: ((reply: string) => void) | undefined;
  private readonly replies: string[] = [];
  private lines: string[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.buffer += text;
      let end = this.buffer.indexOf("\r\n");
      while (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          this.replies.push(this.lines.join("\n"));
          this.lines = [];
        }
        end = this.buffer.indexOf("\r\n");
      }
      this.deliver();
    });
    socket.on("error", () => {});
  }

  /** Connects from `localAddress` when given (any 127.0.0.x on Linux: a client of its own). */
  static async open(port: number, localAddress?: string): Promise<{ client: RawClient; greeting: string }> {
    const socket = connect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
    await once(socket, "connect");
    const client = new RawClient(socket);
    return { client, greeting: await client.reply() };
  }

  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    const next = this.replies.shift();
    if (next === undefined) return;
    const waiting = this.waiting;
    if (waiting === undefined) {
      this.replies.unshift(next);
      return;
    }
    this.waiting = undefined;
    waiting(next);
  }
}
