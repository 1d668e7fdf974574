import { request } from "node:http";
import { get as getHttps } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dashboard } from "../../local/dashboard/start-dashboard.ts";
import { makeTestPki, type TestPki } from "../support/certs.ts";
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

// Issue 15, item 5: beyond loopback the token crossed plain HTTP, and the cookie had no Secure.
describe("the dashboard over TLS", () => {
  const TOKEN = "tls-token-0123456789abcdef";
  let pki: TestPki;
  let secure: Dashboard;
  beforeAll(async () => {
    pki = await makeTestPki();
    secure = await startFixtureDashboard(fixture, { token: TOKEN, tls: pki.valid, log: memoryLogger() });
  });
  afterAll(async () => {
    await secure?.close();
  });

  /** An HTTPS request that trusts only the test CA. */
  function getSecure(path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; cookie: string | undefined }>((resolve, reject) => {
      getHttps(new URL(path, secure.url), { ca: pki.caPem, headers }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, cookie: response.headers["set-cookie"]?.[0] });
      }).on("error", reject);
    });
  }

  it("serves HTTPS and trades ?token= for a Secure cookie", async () => {
    expect(secure.url).toBe(`https://127.0.0.1:${secure.port}/`);
    const load = await getSecure(`/?token=${TOKEN}`);
    expect(load.status).toBe(303);
    expect(load.cookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const pair = (load.cookie as string).split(";")[0] as string;
    expect((await getSecure("/api/status", { Cookie: pair })).status).toBe(200);
    expect((await getSecure("/api/status")).status).toBe(401);
  });

  it("does not answer plain HTTP on its port", async () => {
    const plain = await fetch(`http://127.0.0.1:${secure.port}/api/status`).catch((error: unknown) => error);
    expect(plain).toBeInstanceOf(Error);
  });

  it("warns when it serves plain HTTP beyond loopback", async () => {
    const log = memoryLogger();
    const wide = await startFixtureDashboard(fixture, { host: "0.0.0.0", token: TOKEN, log });
    await wide.close();
    expect(log.lines.join("\n")).toContain("warn dashboard serves plain HTTP beyond loopback");
    const quiet = memoryLogger();
    const wideTls = await startFixtureDashboard(fixture, {
      host: "0.0.0.0",
      token: TOKEN,
      tls: pki.valid,
      log: quiet,
    });
    await wideTls.close();
    expect(quiet.lines.join("\n")).not.toContain("plain HTTP");
  });
});
