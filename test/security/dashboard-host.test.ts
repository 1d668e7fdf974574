import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dashboard } from "../../local/dashboard/start-dashboard.ts";
import { type DashboardFixture, makeDashboardFixture } from "../support/dashboard-fixture.ts";
import { memoryLogger, startFixtureDashboard } from "../support/dashboard-server.ts";

// Issue 15, item 5: the Host check took `[::1]evil.com` for loopback. A dashboard without a
// token must answer only to Host headers that really name loopback (DNS rebinding).
let fixture: DashboardFixture;
let open: Dashboard;

beforeAll(async () => {
  fixture = await makeDashboardFixture();
  open = await startFixtureDashboard(fixture, { log: memoryLogger() });
});
afterAll(async () => {
  await open?.close();
  fixture?.close();
});

/** Sends exactly this Host header (Node's client would otherwise derive one). */
function statusFor(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: "127.0.0.1", port: open.port, path: "/api/status", setHost: false },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    outgoing.on("error", reject);
    outgoing.setHeader("Host", host);
    outgoing.end();
  });
}

describe("the dashboard without a token, by Host header", () => {
  it.each([
    ["127.0.0.1:PORT", 200],
    ["localhost:PORT", 200],
    ["LOCALHOST:PORT", 200],
    ["[::1]:PORT", 200],
    ["[::1]:8025", 200],
    ["127.0.0.1", 200],
    ["[::1]evil.com", 421],
    ["[::1]evil.com:PORT", 421],
    ["127.0.0.1.evil.com", 421],
    ["localhost.", 421],
    ["localhost.evil.com", 421],
    ["127.1", 421],
    ["0x7f.0.0.1", 421],
    ["2130706433", 421],
    ["127.000.0.1", 421],
    ["[::ffff:127.0.0.1]", 421],
    ["[::1", 421],
    [":PORT", 421],
    ["a@127.0.0.1", 421],
    ["127.0.0.1:PORT@evil.com", 421],
    ["127.0.0.1:", 421],
    ["attacker.example:8025", 421],
  ])("Host %j gets %i", async (host, status) => {
    expect(await statusFor(host.replace("PORT", String(open.port)))).toBe(status);
  });

  it("answers 421 to an empty Host", async () => {
    // An empty Host is valid HTTP/1.1 syntax for a request without an authority; never loopback.
    expect(await statusFor("")).toBe(421);
  });
});
