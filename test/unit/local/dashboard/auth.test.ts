import { get } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, DashboardConfigError } from "../../../../local/dashboard/start-dashboard.ts";
import { type DashboardFixture, makeDashboardFixture } from "../../../support/dashboard-fixture.ts";
import { memoryLogger, startFixtureDashboard } from "../../../support/dashboard-server.ts";

const TOKEN = "s3cret-token-0123456789abcdef";
let fixture: DashboardFixture;
let dashboard: Dashboard;
const log = memoryLogger();

beforeAll(async () => {
  fixture = await makeDashboardFixture();
  dashboard = await startFixtureDashboard(fixture, { token: TOKEN, log });
});
afterAll(async () => {
  await dashboard?.close();
  fixture?.close();
});

const at = (path: string, init?: RequestInit) =>
  fetch(new URL(path, dashboard.url), { redirect: "manual", ...init });

describe("the dashboard with a token", () => {
  it("answers 401 without the token, on the page, the API and /metrics", async () => {
    for (const path of ["/", "/api/status", "/metrics", "/static/dashboard.js"]) {
      const response = await at(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="email-scout"');
      expect(((await response.json()) as { error: string }).error).toContain("Authorization: Bearer <token>");
    }
  });

  it("answers 401 to a wrong token, including one that is its prefix", async () => {
    for (const token of ["wrong", TOKEN.slice(0, -1), `${TOKEN}x`]) {
      const response = await at("/api/status", { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
    }
    expect((await at(`/api/status?token=${TOKEN}`)).status).toBe(401);
  });

  it("accepts Authorization: Bearer on the API and /metrics", async () => {
    const headers = { Authorization: `Bearer ${TOKEN}` };
    expect((await at("/api/status", { headers })).status).toBe(200);
    expect((await at("/metrics", { headers })).status).toBe(200);
  });

  it("trades ?token= on the page load for an HttpOnly SameSite=Strict cookie, which then works", async () => {
    const wrong = await at("/?token=nope");
    expect(wrong.status).toBe(401);
    const load = await at(`/?token=${TOKEN}`);
    expect(load.status).toBe(303);
    expect(load.headers.get("location")).toBe("/");
    const cookie = load.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP on loopback: a Secure cookie would never come back
    const pair = cookie.split(";")[0] as string;
    const page = await at("/", { headers: { Cookie: pair } });
    expect(page.status).toBe(200);
    expect((await at("/api/status", { headers: { Cookie: pair } })).status).toBe(200);
    expect((await at("/api/status", { headers: { Cookie: "email_scout_token=nope" } })).status).toBe(401);
  });

  it("answers 401, not an error, to a malformed token cookie", async () => {
    expect((await at("/api/status", { headers: { Cookie: "email_scout_token=%E0%A4%A" } })).status).toBe(401);
  });

  it("never logs the token", () => {
    expect(log.lines.join("\n")).toContain("dashboard ready");
    expect(log.lines.join("\n")).not.toContain(TOKEN);
  });
});

describe("the dashboard without a token", () => {
  it("answers only to loopback names: a rebound DNS name gets 421", async () => {
    const open = await startFixtureDashboard(fixture, { log: memoryLogger() });
    try {
      const statusFor = (host: string) =>
        new Promise<number>((resolve, reject) => {
          get(
            { host: "127.0.0.1", port: open.port, path: "/api/status", headers: { Host: host } },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          ).on("error", reject);
        });
      expect(await statusFor("attacker.example:8025")).toBe(421);
      expect(await statusFor(`127.0.0.1:${open.port}`)).toBe(200);
      expect(await statusFor(`localhost:${open.port}`)).toBe(200);
      expect(await statusFor(`[::1]:${open.port}`)).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe("binding", () => {
  it("refuses a non-loopback address without a token, saying what to set", async () => {
    const error = await startFixtureDashboard(fixture, { host: "0.0.0.0" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DashboardConfigError);
    expect((error as Error).message).toBe(
      "dashboard: refusing to listen on 0.0.0.0 without a token; set dashboard.tokenFile, or set dashboard.host to 127.0.0.1",
    );
  });

  it("refuses a token too short to be secret", async () => {
    const error = await startFixtureDashboard(fixture, { token: "short" }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("at least 16 characters");
  });

  it("reports a port in use as an error", async () => {
    const error = await startDashboardOnPort(dashboard.port).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
  });
});

async function startDashboardOnPort(port: number) {
  const { startDashboard } = await import("../../../../local/dashboard/start-dashboard.ts");
  return startDashboard({
    host: "127.0.0.1",
    port,
    store: fixture.store,
    statuses: fixture.statuses,
    config: fixture.config,
    log: memoryLogger(),
  });
}
