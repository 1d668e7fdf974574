import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMany } from "../../../../core/checks/check-many.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { type LineServer, startLineServer } from "../../../support/line-server.ts";

let healthy: LineServer;
let silent: LineServer;

beforeAll(async () => {
  healthy = await startLineServer((conn) => {
    conn.line("220 ok.example ESMTP");
    conn.onLine((line) => {
      if (line.startsWith("EHLO")) conn.line("250 ok.example");
      else if (line === "QUIT") conn.line("221 bye");
    });
  });
  silent = await startLineServer(() => {});
});
afterAll(async () => {
  await healthy.close();
  await silent.close();
});

describe("checkMany", () => {
  it("a silent endpoint holds one slot; every healthy result arrives before its deadline ends it", async () => {
    const hostile = {
      endpoint: parseEndpointUrl(`smtp://127.0.0.1:${silent.port}`),
      options: { timeouts: { greeting: 8_000 } },
    };
    const good = { endpoint: parseEndpointUrl(`smtp://127.0.0.1:${healthy.port}?starttls=off`) };
    const requests = [hostile, ...Array.from({ length: 20 }, () => good)];
    const order: number[] = [];
    const results = await checkMany(requests, { concurrency: 4, onResult: (_r, index) => order.push(index) });
    expect(results[0]).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting" });
    expect(results.slice(1).every((r) => r.status === "OK")).toBe(true);
    // The hostile check finished last: it delayed no other result.
    expect(order.at(-1)).toBe(0);
    expect(order).toHaveLength(21);
  });

  it("never runs more than `concurrency` checks at once", async () => {
    let active = 0;
    let peak = 0;
    const server = await startLineServer((conn) => {
      active += 1;
      peak = Math.max(peak, active);
      conn.line("220 ok ESMTP");
      conn.onLine((line) => {
        if (line.startsWith("EHLO")) conn.line("250 ok");
        else if (line === "QUIT") {
          // Counted down before the reply: the client's check cannot end before this line runs.
          active -= 1;
          conn.line("221 bye");
          conn.socket.end();
        }
      });
    });
    try {
      const request = { endpoint: parseEndpointUrl(`smtp://127.0.0.1:${server.port}?starttls=off`) };
      const results = await checkMany(
        Array.from({ length: 30 }, () => request),
        { concurrency: 3 },
      );
      expect(results.every((r) => r.status === "OK")).toBe(true);
      expect(peak).toBeLessThanOrEqual(3);
    } finally {
      await server.close();
    }
  });

  it("rejects a concurrency that is not a positive integer", async () => {
    await expect(checkMany([], { concurrency: 0 })).rejects.toThrow(
      "concurrency must be a positive integer, not 0",
    );
  });
});
