import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import type { FetchConfig } from "../../../../core/config/fetch-schema.ts";
import { createMailboxOpener } from "../../../../core/mailbox/mailbox-opener.ts";
import { Pop3TestServer } from "../../../support/pop3-server.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A token endpoint on port 0 that hands out `token-N` for the right client secret. */
async function tokenEndpoint(): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      requests += 1;
      const form = new URLSearchParams(body);
      const ok = form.get("client_secret") === "the-client-secret";
      response.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      response.end(
        JSON.stringify(
          ok ? { access_token: `token-${requests}`, expires_in: 3600 } : { error: "invalid_client" },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests: () => requests,
  };
}

describe("createMailboxOpener", () => {
  it("logs in with an OAuth token from the client-credentials grant, and keeps it for the next login", async () => {
    const endpoint = await tokenEndpoint();
    const pop3 = await Pop3TestServer.start({ user: "probe", password: "unused", accessToken: "token-1" });
    closers.push(() => pop3.close());
    const secretsRead: string[] = [];
    const opener = createMailboxOpener({
      readSecret: async (reference) => {
        secretsRead.push(reference);
        return new Secret("the-client-secret");
      },
      clock: { now: () => 0 },
      log: new RecordingLogger(),
    });
    const fetch: FetchConfig = {
      url: pop3.url,
      user: "probe",
      oauth: { tokenUrl: endpoint.url, clientId: "app", clientSecretFile: "/etc/scout/client-secret" },
      deleteAfterFetch: true,
      pollSeconds: 1,
      waitSeconds: 1,
    };
    for (let login = 0; login < 2; login++) {
      const session = await opener.open("hosted", fetch);
      expect(await session.probeMessages()).toEqual([]);
      await session.close();
    }
    expect(pop3.logins).toBe(2);
    expect(endpoint.requests()).toBe(1);
    expect(secretsRead).toEqual(["/etc/scout/client-secret"]);
  });

  it("reads the password by its reference at each login", async () => {
    const pop3 = await Pop3TestServer.start({ user: "probe", password: "pw-2" });
    closers.push(() => pop3.close());
    let password = "pw-1";
    const opener = createMailboxOpener({
      readSecret: async () => new Secret(password),
      clock: { now: () => 0 },
      log: new RecordingLogger(),
    });
    const fetch: FetchConfig = {
      url: pop3.url,
      user: "probe",
      passwordFile: "/etc/scout/pw",
      deleteAfterFetch: true,
      pollSeconds: 1,
      waitSeconds: 1,
    };
    await expect(opener.open("hosted", fetch)).rejects.toMatchObject({ name: "MailboxError", step: "login" });
    // The file was replaced: the next login uses the new password, no restart.
    password = "pw-2";
    const session = await opener.open("hosted", fetch);
    await session.close();
    expect(pop3.logins).toBe(1);
  });
});
