import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One POST as the receiver saw it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.timeOrigin + performance.now() when the body had fully arrived. */
  readonly arrivedAtMs: number;
}

/** What to answer one request with; "hang" never answers, "destroy" drops the connection. */
export type Reply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | "hang"
  | "destroy";

/** Decides the answer to the n-th request (0-based), now or later. The default answers 204. */
export type Script = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

/**
 * A scriptable webhook receiver on node:http, on 127.0.0.1: records every request and answers
 * as its script says. `close()` refuses further connections; `reopen()` listens again on the
 * same port, so a dispatcher sees an outage and a recovery of one URL.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  script: Script = () => ({ status: 204 });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  port = 0;

  static async start(script?: Script): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    if (script) receiver.script = script;
    await receiver.listen(0);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Resolves once `check` holds (checked after every request), or rejects after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`receiver: ${what} not met within ${timeoutMs} ms (${this.requests.length} requests)`),
        );
      }, timeoutMs);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Distinct webhook-id values received so far. */
  ids(): Set<string> {
    return new Set(this.requests.map((r) => String(r.headers["webhook-id"])));
  }

  /** Stops listening and drops open connections: new attempts get ECONNREFUSED. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }

  /** Listens again on the port it had (nothing to do when it is listening). */
  async reopen(): Promise<void> {
    if (this.server) return;
    await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const received: ReceivedRequest = {
          method: request.method ?? "",
          url: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          arrivedAtMs: performance.timeOrigin + performance.now(),
        };
        const index = this.requests.length;
        this.requests.push(received);
        this.notify();
        void Promise.resolve(this.script(received, index)).then((reply) => this.answer(response, reply));
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    server.keepAliveTimeout = 30_000;
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private answer(response: ServerResponse, reply: Reply): void {
    if (reply === "hang" || response.destroyed) return;
    if (reply === "destroy") {
      response.socket?.destroy();
      return;
    }
    response.writeHead(reply.status, reply.headers);
    response.end(reply.body ?? "");
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter?.check()) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

/**
 * Resolves once `check` holds, checking now and after every `event` the emitter sends;
 * rejects after `timeoutMs`. For conditions that follow an attempt (a row marked delivered).
 */
export async function untilEmitted(
  emitter: NodeJS.EventEmitter,
  event: string,
  check: () => boolean,
  timeoutMs = 30_000,
  what = "condition",
): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const onEvent = () => {
      if (!check()) return;
      clearTimeout(timer);
      emitter.off(event, onEvent);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`${what} not met within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.on(event, onEvent);
  });
}

/** A fresh `whsec_` secret with a 32-byte key. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString("base64")}`;
}
