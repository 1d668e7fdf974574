import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../core/basics/secret.ts";
import { OAuthTokenError, OAuthTokenSource } from "../../core/mailbox/oauth-token-source.ts";
import { systemClock } from "../../core/ports/clock.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

/*
 * Dovecot's oauth2 passdb on the demo host: a token presented with XOAUTH2 or OAUTHBEARER is
 * introspected (RFC 7662) at the demo OAuth server, which issued it to the monitor by the
 * client-credentials grant. Fetch mode's logins with such tokens are in fetch-round-trip.test.ts;
 * here, what Dovecot refuses. Those logins come from 127.0.0.3: Dovecot slows every login from
 * an address after a failed one, and the other tests log in from 127.0.0.1 (and 127.0.0.2).
 */
const FETCH_USER = "probe-fetch";
const SOURCE = "127.0.0.3";
// Dovecot delays a failed login 2 s, and every later one from that address up to 15 s more.
const STEP_MS = 30_000;

let demo: DemoHost;

beforeAll(() => {
  demo = demoHost();
});

function tokenSource(secret: string, client = demo.fetchOAuth): OAuthTokenSource {
  const { tokenUrl, clientId } = client;
  return new OAuthTokenSource(
    { tokenUrl, clientId, clientSecret: async () => new Secret(secret) },
    { clock: systemClock },
  );
}

const clientSecret = () => readFileSync(demo.fetchOAuth.clientSecretFile, "utf8");

/** What Dovecot answers on IMAPS to AUTHENTICATE `mechanism` with `token` for `user`: the tagged line and any error challenge. */
async function authenticate(
  mechanism: "XOAUTH2" | "OAUTHBEARER",
  user: string,
  token: string,
): Promise<{ tagged: string; challenge?: string }> {
  const socket: TLSSocket = connect({
    socket: tcpConnect({ host: demo.host, port: 993, localAddress: SOURCE }),
    servername: "mail.scout.test",
    ca: readFileSync(demo.caFile),
  });
  socket.setEncoding("utf8");
  let buffered = "";
  const waiters: (() => void)[] = [];
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on("error", () => {});
  const nextLine = async (): Promise<string> => {
    const deadline = Date.now() + STEP_MS;
    for (;;) {
      const end = buffered.indexOf("\r\n");
      if (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        return line;
      }
      if (Date.now() > deadline || socket.destroyed)
        throw new Error(`no line from Dovecot; got: ${buffered}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  };
  try {
    expect(await nextLine()).toMatch(/^\* OK/);
    const payload =
      mechanism === "XOAUTH2"
        ? `user=${user}\x01auth=Bearer ${token}\x01\x01`
        : `n,a=${user},\x01auth=Bearer ${token}\x01\x01`;
    socket.write(`A1 AUTHENTICATE ${mechanism} ${Buffer.from(payload).toString("base64")}\r\n`);
    let challenge: string | undefined;
    for (;;) {
      const line = await nextLine();
      if (line.startsWith("+")) {
        // RFC 7628 §3.2.2 / XOAUTH2: the error comes as a challenge; an empty reply ends the exchange.
        challenge = Buffer.from(line.slice(1).trim(), "base64").toString("utf8");
        socket.write("\r\n");
      } else if (line.startsWith("A1 ")) {
        return challenge === undefined ? { tagged: line } : { tagged: line, challenge };
      }
    }
  } finally {
    socket.destroy();
  }
}

async function revoke(token: string): Promise<void> {
  const response = await fetch(demo.oauthRevokeUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, client_id: demo.fetchOAuth.clientId, client_secret: clientSecret() }),
    signal: AbortSignal.timeout(STEP_MS),
  });
  expect(response.status).toBe(200);
}

describe("Dovecot's oauth2 passdb against the demo token endpoint", () => {
  it("a client-credentials token from the endpoint logs in with XOAUTH2 and OAUTHBEARER", async () => {
    const token = (await tokenSource(clientSecret()).accessToken()).reveal();
    expect((await authenticate("XOAUTH2", FETCH_USER, token)).tagged).toMatch(/^A1 OK/);
    expect((await authenticate("OAUTHBEARER", FETCH_USER, token)).tagged).toMatch(/^A1 OK/);
  });

  it("a token the endpoint never issued is refused: AUTHENTICATIONFAILED, with a 401 challenge", async () => {
    const answer = await authenticate("XOAUTH2", FETCH_USER, "not-a-token-the-endpoint-issued");
    expect(answer.tagged).toMatch(/^A1 NO \[AUTHENTICATIONFAILED\]/);
    expect(JSON.parse(answer.challenge ?? "{}")).toMatchObject({ status: "401" });
  });

  it("a token past its lifetime is refused", async () => {
    const client = demo.fetchOAuthShortLived;
    const issuedAtMs = Date.now();
    const token = (
      await tokenSource(readFileSync(client.clientSecretFile, "utf8"), client).accessToken()
    ).reveal();
    // The client's tokens last 2 s (expires_in): wait on the clock until this one is past it.
    while (Date.now() < issuedAtMs + 2_500) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await authenticate("XOAUTH2", FETCH_USER, token)).tagged).toMatch(
      /^A1 NO \[AUTHENTICATIONFAILED\]/,
    );
  });

  it("a token revoked at the endpoint (RFC 7009) is refused from then on", async () => {
    const token = (await tokenSource(clientSecret()).accessToken()).reveal();
    await revoke(token);
    expect((await authenticate("OAUTHBEARER", FETCH_USER, token)).tagged).toMatch(
      /^A1 NO \[AUTHENTICATIONFAILED\]/,
    );
  });

  it("a token is good for the mailbox it was issued for only", async () => {
    const token = (await tokenSource(clientSecret()).accessToken()).reveal();
    expect((await authenticate("XOAUTH2", "scout", token)).tagged).toMatch(/^A1 NO \[AUTHENTICATIONFAILED\]/);
  });

  it("a wrong client secret gets no token: the monitor's error names the endpoint and invalid_client", async () => {
    const failure = await tokenSource("wrong-secret")
      .accessToken()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OAuthTokenError);
    expect((failure as OAuthTokenError).reason).toBe("refused");
    expect((failure as Error).message).toBe(
      `OAuth token from ${demo.fetchOAuth.tokenUrl}: HTTP 401, invalid_client`,
    );
    expect((failure as Error).message).not.toContain("wrong-secret");
  });
});
