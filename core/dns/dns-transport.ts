import { createSocket } from "node:dgram";
import { isIPv6, Socket } from "node:net";

/**
 * The two ways a DNS message travels (RFC 1035 §4.2): one UDP datagram each way, or over TCP
 * with a two-byte length before each message. Both resolve with the raw reply and reject with
 * TransportTimeout at the deadline, or with the socket's own error.
 */

export interface DnsServerAddress {
  readonly host: string;
  readonly port: number;
}

export class TransportTimeout extends Error {
  override readonly name = "TransportTimeout";
}

/** The message ID, the first two bytes of every DNS message. */
const messageId = (message: Buffer): number => message.readUInt16BE(0);

/** Sends one datagram and waits for a reply from that server carrying the same ID; others are ignored. */
export function exchangeUdp(server: DnsServerAddress, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      socket.close();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new TransportTimeout(`no UDP reply within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.on("error", (error) => finish(() => reject(error)));
    socket.on("message", (reply, from) => {
      // A reply from elsewhere, or to an earlier try, is not ours (RFC 5452 §4.3).
      if (from.port !== server.port || reply.length < 12 || messageId(reply) !== messageId(query)) return;
      finish(() => resolve(reply));
    });
    socket.send(query, server.port, server.host, (error) => {
      if (error) finish(() => reject(error));
    });
  });
}

/** Sends the query over a fresh TCP connection and reads one length-prefixed reply. */
export function exchangeTcp(server: DnsServerAddress, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new TransportTimeout(`no TCP reply within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.on("error", (error) => finish(() => reject(error)));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length >= 2 + length) finish(() => resolve(received.subarray(2, 2 + length)));
    });
    socket.on("end", () =>
      finish(() => reject(new Error(`the server closed TCP after ${received.length} bytes of the reply`))),
    );
    socket.connect(server.port, server.host, () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
  });
}
