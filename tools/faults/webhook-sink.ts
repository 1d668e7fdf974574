import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * The webhook receiver the harness points the monitor at: a real HTTP server on 127.0.0.1
 * that answers 204 and keeps the webhook-id of every delivery. `close()` refuses
 * connections (the receiver is down); `reopen()` listens again on the same port.
 */
export class WebhookSink {
  readonly receivedIds = new Set<string>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  static async start(): Promise<WebhookSink> {
    const sink = new WebhookSink();
    await sink.reopen();
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }

  async reopen(): Promise<void> {
    if (this.server) return;
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        const id = request.headers["webhook-id"];
        if (typeof id === "string") this.receivedIds.add(id);
        response.writeHead(204).end();
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    server.listen(this.port, "127.0.0.1");
    await once(server, "listening");
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }
}
