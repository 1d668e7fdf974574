import type { Socket } from "node:net";

export type ChannelErrorKind = "timeout" | "closed" | "line-too-long";

/** Reading a line failed; `partial` holds what had arrived of the unfinished line. */
export class ChannelError extends Error {
  override readonly name = "ChannelError";
  constructor(
    readonly kind: ChannelErrorKind,
    message: string,
    readonly partial: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Waiter {
  resolve(line: string): void;
  reject(error: ChannelError): void;
  timer: NodeJS.Timeout;
}

/** Longest line accepted from a server. RFC 5321 caps reply lines at 512 octets; IMAP and
 * POP3 capability lines stay far below this. Anything longer is hostile or not a mail server. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

/**
 * Line-oriented reading from a socket with an absolute deadline per read. The deadline is
 * for the whole line, not for inactivity, so a server that drips a byte a second cannot
 * hold a check past its phase deadline. Lines end with LF (CR before it is dropped).
 */
export class LineChannel {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly lines: string[] = [];
  private failure: ChannelError | undefined;
  private waiter: Waiter | undefined;
  private detached = false;

  constructor(
    readonly socket: Socket,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onEnd);
    // Closed before this channel existed (e.g. reset right after a TLS handshake): its
    // 'close' has been emitted already, and a read would otherwise wait for its deadline.
    if (socket.destroyed) this.onEnd();
  }

  /** Next complete line (without its line end), or a ChannelError at the deadline. */
  readLine(deadline: number): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) throw new Error("LineChannel: one reader at a time");
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiter = undefined;
          const partial = this.partialText();
          reject(new ChannelError("timeout", "no complete line before the deadline", partial));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiter = { resolve, reject, timer };
    });
  }

  /** A complete line that has already arrived, without waiting; undefined when none has. */
  takeBufferedLine(): string | undefined {
    return this.lines.shift();
  }

  write(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** True when bytes have arrived that nobody has read yet (used to catch STARTTLS injection). */
  hasUnreadData(): boolean {
    return this.lines.length > 0 || this.pendingBytes > 0;
  }

  /** Stop reading so the socket can be handed to TLS. */
  detach(): Socket {
    this.detached = true;
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("error", this.onError);
    this.socket.off("close", this.onEnd);
    if (this.waiter) clearTimeout(this.waiter.timer);
    return this.socket;
  }

  private partialText(): string {
    return Buffer.concat(this.pending).toString("utf8").slice(0, 200);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.failure || this.detached) return;
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.pending.push(chunk.subarray(start, newline));
      const raw = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      if (raw.length > this.maxLineBytes) {
        this.fail(this.tooLong(raw.length));
        return;
      }
      const end = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.length - 1 : raw.length;
      this.deliver(raw.toString("utf8", 0, end));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) this.fail(this.tooLong(this.pendingBytes));
    }
  };

  private tooLong(length: number): ChannelError {
    return new ChannelError(
      "line-too-long",
      `line longer than ${this.maxLineBytes} bytes (${length} received without a line end)`,
      this.partialText(),
    );
  }

  private deliver(line: string): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(line);
    } else {
      this.lines.push(line);
    }
  }

  private readonly onEnd = (): void => {
    const partial = this.partialText();
    const detail = partial ? ` after an unfinished line "${partial.slice(0, 80)}"` : "";
    this.fail(new ChannelError("closed", `the server closed the connection${detail}`, partial));
  };

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.fail(
      new ChannelError("closed", `connection error: ${error.code ?? error.message}`, this.partialText(), {
        cause: error,
      }),
    );
  };

  private fail(error: ChannelError): void {
    if (this.failure) return;
    this.failure = error;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
