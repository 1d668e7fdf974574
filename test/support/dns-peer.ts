import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import * as packet from "dns-packet";

/**
 * An in-process DNS server on 127.0.0.1 for the resolver's unit tests: one port for UDP and
 * TCP, each query answered by a function that builds the reply. Hostile behaviour (no reply,
 * truncation, wrong IDs) is written in the function.
 */
export interface DnsPeerQuery {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly transport: "udp" | "tcp";
  /** Whether the query carried an EDNS OPT record. */
  readonly edns: boolean;
}

/** The reply to send (undefined: say nothing). */
export type DnsPeerHandler = (query: DnsPeerQuery) => packet.Packet | Buffer | undefined;

export interface DnsPeer {
  readonly port: number;
  readonly queries: DnsPeerQuery[];
  close(): Promise<void>;
}

export async function startDnsPeer(handle: DnsPeerHandler): Promise<DnsPeer> {
  const queries: DnsPeerQuery[] = [];
  const answer = (message: Buffer, transport: "udp" | "tcp"): Buffer | undefined => {
    const decoded = packet.decode(message);
    const question = decoded.questions?.[0];
    const edns = (decoded.additionals ?? []).some((record) => record.type === "OPT");
    const query = {
      id: decoded.id ?? 0,
      name: question?.name ?? "",
      type: question?.type ?? "",
      transport,
      edns,
    };
    queries.push(query);
    const reply = handle(query);
    if (reply === undefined || Buffer.isBuffer(reply)) return reply;
    return packet.encode({ id: query.id, type: "response", questions: decoded.questions, ...reply });
  };
  // Bind TCP on port 0, then UDP on the same number (a rare clash with another UDP user: try again).
  for (let attempt = 0; ; attempt++) {
    const tcp = createServer((socket) => {
      let received = Buffer.alloc(0);
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const reply = answer(received.subarray(2, 2 + received.readUInt16BE(0)), "tcp");
        if (reply === undefined) return;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.end(Buffer.concat([length, reply]));
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket("udp4");
    const bound = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (!bound) {
      await closeBoth(tcp, undefined);
      if (attempt < 5) continue;
      throw new Error("dns-peer: no port free for both UDP and TCP");
    }
    udp.on("message", (message, from) => {
      const reply = answer(message, "udp");
      if (reply !== undefined) udp.send(reply, from.port, from.address);
    });
    return { port, queries, close: () => closeBoth(tcp, udp) };
  }
}

async function closeBoth(tcp: Server, udp: UdpSocket | undefined): Promise<void> {
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
}

/** A UDP socket on port 0 that reads every query and never answers. */
export async function startSilentDnsPeer(): Promise<{
  port: number;
  received: () => number;
  close(): Promise<void>;
}> {
  const udp = createSocket("udp4");
  let received = 0;
  udp.on("message", () => {
    received += 1;
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  return {
    port: udp.address().port,
    received: () => received,
    close: () => new Promise<void>((resolve) => udp.close(() => resolve())),
  };
}
