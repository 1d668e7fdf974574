import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { OAuthTokenError, OAuthTokenSource } from "../../../../core/mailbox/oauth-token-source.ts";

const CLIENT_SECRET = "client-secret-value-never-logged";

/** A token endpoint on 127.0.0.1:0 that answers with `reply` and records each request's form. */
async function tokenServer(
  reply: (form: URLSearchParams, count: number) => { status: number; body: unknown },
): Promise<{ url: string; forms: URLSearchParams[]; server: Server }> {
  const forms: URLSearchParams[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      const form = new URLSearchParams(text);
      forms.push(form);
      const { status, body } = reply(form, forms.length);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(typeof body === "string" ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/oauth2/v2.0/token`, forms, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function sourceFor(url: string, clock: { now(): number }, scope?: string): OAuthTokenSource {
  return new OAuthTokenSource(
    {
      tokenUrl: url,
      clientId: "app-id",
      clientSecret: async () => new Secret(CLIENT_SECRET),
      ...(scope === undefined ? {} : { scope }),
    },
    { clock },
  );
}

describe("OAuthTokenSource (client credentials)", () => {
  it("asks with the client-credentials form and hands back the token as a Secret", async () => {
    const endpoint = await tokenServer(() => ({
      status: 200,
      body: { access_token: "token-1", token_type: "Bearer", expires_in: 3600 },
    }));
    const token = await sourceFor(
      endpoint.url,
      { now: () => 0 },
      "https://outlook.office365.com/.default",
    ).accessToken();
    expect(token.reveal()).toBe("token-1");
    expect(String(token)).toBe("[redacted]");
    expect(inspect(token)).toBe("[redacted]");
    expect(Object.fromEntries(endpoint.forms[0] ?? [])).toEqual({
      grant_type: "client_credentials",
      client_id: "app-id",
      client_secret: CLIENT_SECRET,
      scope: "https://outlook.office365.com/.default",
    });
  });

  it("keeps a token until five minutes before it expires, then fetches a new one", async () => {
    let nowMs = 1_000_000;
    const endpoint = await tokenServer((_form, count) => ({
      status: 200,
      body: { access_token: `token-${count}`, expires_in: 3600 },
    }));
    const source = sourceFor(endpoint.url, { now: () => nowMs });
    expect((await source.accessToken()).reveal()).toBe("token-1");
    nowMs += 3600_000 - 5 * 60_000 - 1;
    expect((await source.accessToken()).reveal()).toBe("token-1");
    nowMs += 1;
    expect((await source.accessToken()).reveal()).toBe("token-2");
    expect(endpoint.forms).toHaveLength(2);
  });

  it("refreshes a short-lived token at half its lifetime", async () => {
    let nowMs = 0;
    const endpoint = await tokenServer((_form, count) => ({
      status: 200,
      body: { access_token: `token-${count}`, expires_in: "120" },
    }));
    const source = sourceFor(endpoint.url, { now: () => nowMs });
    await source.accessToken();
    nowMs = 59_999;
    expect((await source.accessToken()).reveal()).toBe("token-1");
    nowMs = 60_000;
    expect((await source.accessToken()).reveal()).toBe("token-2");
  });

  it("sends one request for callers that ask at once", async () => {
    const endpoint = await tokenServer(() => ({
      status: 200,
      body: { access_token: "shared", expires_in: 3600 },
    }));
    const source = sourceFor(endpoint.url, { now: () => 0 });
    const tokens = await Promise.all([source.accessToken(), source.accessToken(), source.accessToken()]);
    expect(tokens.map((token) => token.reveal())).toEqual(["shared", "shared", "shared"]);
    expect(endpoint.forms).toHaveLength(1);
  });

  it("names a refusal with the server's error code, never the client secret", async () => {
    const endpoint = await tokenServer(() => ({
      status: 401,
      body: { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." },
    }));
    const failure = await sourceFor(endpoint.url, { now: () => 0 })
      .accessToken()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OAuthTokenError);
    expect(failure).toMatchObject({ reason: "refused", tokenUrl: endpoint.url });
    expect((failure as Error).message).toBe(
      `OAuth token from ${endpoint.url}: HTTP 401, invalid_client: AADSTS7000215: Invalid client secret provided.`,
    );
    expect(inspect(failure)).not.toContain(CLIENT_SECRET);
  });

  it("names a response without an access token, and one that is not JSON", async () => {
    for (const body of [{ token_type: "Bearer" }, "<html>login</html>"]) {
      const endpoint = await tokenServer(() => ({ status: 200, body }));
      await expect(sourceFor(endpoint.url, { now: () => 0 }).accessToken()).rejects.toMatchObject({
        name: "OAuthTokenError",
        reason: "bad-response",
        message: `OAuth token from ${endpoint.url}: the response has no access_token`,
      });
    }
  });

  it("names an endpoint it cannot reach", async () => {
    const endpoint = await tokenServer(() => ({ status: 200, body: {} }));
    await new Promise((resolve) => endpoint.server.close(resolve));
    await expect(sourceFor(endpoint.url, { now: () => 0 }).accessToken()).rejects.toMatchObject({
      name: "OAuthTokenError",
      reason: "unreachable",
    });
  });

  it("fetches again after a failure rather than keeping it", async () => {
    const endpoint = await tokenServer((_form, count) =>
      count === 1
        ? { status: 503, body: { error: "temporarily_unavailable" } }
        : { status: 200, body: { access_token: "after-outage", expires_in: 3600 } },
    );
    const source = sourceFor(endpoint.url, { now: () => 0 });
    await expect(source.accessToken()).rejects.toMatchObject({ reason: "refused" });
    expect((await source.accessToken()).reveal()).toBe("after-outage");
  });
});
