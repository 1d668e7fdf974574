/**
 * The benchmark's webhook receiver, in its own process like a real one (sharing the machine's
 * CPUs but not the dispatcher's event loop). Records when each webhook-id arrived and answers
 * 204. Messages from the parent: { clear }, { expect: n } (replies { reached: n } once n
 * arrived), { report } (replies { arrivals: [id, ms][] }).
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const arrivals = new Map<string, number>();
let expected: number | undefined;

const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    arrivals.set(String(request.headers["webhook-id"]), performance.timeOrigin + performance.now());
    response.writeHead(204).end();
    if (expected !== undefined && arrivals.size >= expected) {
      process.send?.({ reached: expected });
      expected = undefined;
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1");
await once(server, "listening");

process.on("message", (message: { clear?: true; expect?: number; report?: true; stop?: true }) => {
  if (message.clear) arrivals.clear();
  if (message.expect !== undefined) {
    if (arrivals.size >= message.expect) process.send?.({ reached: message.expect });
    else expected = message.expect;
  }
  if (message.report) process.send?.({ arrivals: [...arrivals] });
  if (message.stop) {
    server.close();
    process.disconnect();
  }
});
process.send?.({ port: (server.address() as AddressInfo).port });
