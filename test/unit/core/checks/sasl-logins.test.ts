import { afterAll, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { checkEndpoint } from "../../../../core/checks/run-check.ts";
import type { LoginMechanismName } from "../../../../core/checks/sasl/mechanism-names.ts";
import {
  type FakeAccessServerOptions,
  startFakeImap,
  startFakePop3,
} from "../../../support/fake-mail-servers.ts";
import { startFakeSmtpAuth } from "../../../support/fake-smtp-auth-server.ts";
import { SERVER_MECHANISMS } from "../../../support/sasl-server-side.ts";

// Real servers on port 0 that verify each mechanism against a stored password
// (test/support/sasl-server-side.ts), in plain text: TLS is tested in tls-and-login.test.ts.
const USER = "scout";
const PASSWORD = "correct horse battery staple";
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

type Protocol = "smtp" | "imap" | "pop3";
const START = { smtp: startFakeSmtpAuth, imap: startFakeImap, pop3: startFakePop3 };

async function serve(protocol: Protocol, options: Partial<FakeAccessServerOptions> = {}) {
  const logins: string[] = [];
  const server = await START[protocol]({ user: USER, password: PASSWORD, logins, ...options });
  closers.push(server.close);
  return { url: `${protocol}://127.0.0.1:${server.port}?starttls=off`, logins };
}

function login(
  url: string,
  { password = PASSWORD, mechanism }: { password?: string; mechanism?: LoginMechanismName } = {},
) {
  return checkEndpoint(parseEndpointUrl(url), {
    overallTimeoutMs: 20_000,
    credentials: { user: USER, password: new Secret(password), ...(mechanism ? { mechanism } : {}) },
  });
}

/** Offer only SASL: no IMAP LOGIN command, no POP3 USER. */
const saslOnly = (protocol: Protocol, mechanisms: readonly string[]): Partial<FakeAccessServerOptions> =>
  protocol === "imap"
    ? { mechanisms, loginDisabled: true }
    : protocol === "pop3"
      ? { mechanisms, userPass: false }
      : { mechanisms };

describe.each(["smtp", "imap", "pop3"] as const)("%s", (protocol) => {
  it.each(SERVER_MECHANISMS)("logs in with %s, the server verifying it", async (mechanism) => {
    const server = await serve(protocol, saslOnly(protocol, [mechanism]));
    const result = await login(server.url);
    expect(result).toMatchObject({ status: "OK", login: "ok", authMechanism: mechanism });
    expect(server.logins).toEqual([`${mechanism} ok`]);
  });

  it.each(SERVER_MECHANISMS)("names a wrong password with %s auth-failed", async (mechanism) => {
    const server = await serve(protocol, saslOnly(protocol, [mechanism]));
    const result = await login(server.url, { password: "wrong-password-123" });
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "auth-failed",
      failedPhase: "login",
      login: "failed",
      authMechanism: mechanism,
    });
    expect(result.message).toContain(mechanism);
    expect(server.logins).toEqual([`${mechanism} failed`]);
    expect(JSON.stringify(result)).not.toContain("wrong-password-123");
  });

  it("chooses the strongest mechanism both sides offer", async () => {
    const all = await serve(protocol, {
      mechanisms: ["LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
    });
    expect(await login(all.url)).toMatchObject({ status: "OK", authMechanism: "SCRAM-SHA-256" });
    const older = await serve(protocol, { mechanisms: ["LOGIN", "PLAIN", "CRAM-MD5", "DIGEST-MD5"] });
    expect(await login(older.url)).toMatchObject({ status: "OK", authMechanism: "CRAM-MD5" });
    expect(older.logins).toEqual(["CRAM-MD5 ok"]);
  });

  it("uses the mechanism named, even when a stronger one is offered", async () => {
    const server = await serve(protocol, { mechanisms: ["SCRAM-SHA-256", "PLAIN"] });
    const result = await login(server.url, { mechanism: "PLAIN" });
    expect(result).toMatchObject({ status: "OK", authMechanism: "PLAIN" });
    expect(server.logins).toEqual(["PLAIN ok"]);
  });

  it("names a mechanism the server does not offer auth-unavailable, listing what it offers", async () => {
    const server = await serve(protocol, saslOnly(protocol, ["SCRAM-SHA-256", "PLAIN"]));
    const result = await login(server.url, { mechanism: "CRAM-MD5" });
    expect(result).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable", failedPhase: "login" });
    expect(result.message).toContain(
      "CRAM-MD5 was asked for, but the server offers SASL SCRAM-SHA-256 PLAIN",
    );
    expect(result.authMechanism).toBeUndefined();
    expect(server.logins).toEqual([]);
  });

  it("a server offering only DIGEST-MD5 is auth-unavailable, and the message says why", async () => {
    const server = await serve(protocol, saslOnly(protocol, ["DIGEST-MD5"]));
    const result = await login(server.url);
    expect(result).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
    expect(result.message).toContain("DIGEST-MD5 is obsolete (RFC 6331) and not supported");
  });

  it.each([
    [
      "a wrong signature",
      "wrong-signature",
      /signature \(v=\) is wrong: it could not prove it knows the password/,
    ],
    ["no signature", "none", /without sending its signature \(v=\)/],
    ["an e= error", "error", /ended SCRAM-SHA-256 with e=other-error/],
  ] as const)(
    "a SCRAM server that answers the right proof with %s fails the login",
    async (_name, final, message) => {
      const server = await serve(protocol, {
        ...saslOnly(protocol, ["SCRAM-SHA-256"]),
        scramServerFinal: final,
      });
      const result = await login(server.url);
      expect(result).toMatchObject({
        status: "CRITICAL",
        reason: "auth-failed",
        login: "failed",
        authMechanism: "SCRAM-SHA-256",
      });
      expect(result.message).toMatch(message);
    },
  );
});

describe("servers as they ship", () => {
  it("Sendmail's default AUTH DIGEST-MD5 CRAM-MD5 logs in with CRAM-MD5", async () => {
    const server = await serve("smtp", { mechanisms: ["DIGEST-MD5", "CRAM-MD5"] });
    const result = await login(server.url);
    expect(result).toMatchObject({ status: "OK", login: "ok", authMechanism: "CRAM-MD5" });
    expect(server.logins).toEqual(["CRAM-MD5 ok"]);
  });
});

describe("the protocols' own login commands", () => {
  it("IMAP falls back to the LOGIN command when no SASL mechanism is shared", async () => {
    const server = await serve("imap", { mechanisms: ["GSSAPI"] });
    expect(await login(server.url)).toMatchObject({ status: "OK", authMechanism: "IMAP-LOGIN" });
    expect(server.logins).toEqual(["IMAP-LOGIN ok"]);
  });

  it("IMAP with LOGINDISABLED still logs in with SCRAM, but not with the LOGIN command", async () => {
    const scram = await serve("imap", { mechanisms: ["SCRAM-SHA-1"], loginDisabled: true });
    expect(await login(scram.url)).toMatchObject({ status: "OK", authMechanism: "SCRAM-SHA-1" });
    const none = await serve("imap", { mechanisms: [], loginDisabled: true });
    const refused = await login(none.url);
    expect(refused).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
    expect(refused.message).toContain("LOGINDISABLED");
    const forced = await login(scram.url, { mechanism: "IMAP-LOGIN" });
    expect(forced).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
    expect(scram.logins).toEqual(["SCRAM-SHA-1 ok"]);
  });

  it("IMAP with Mailutils' XTLSREQUIRED takes no login before TLS: auth-unavailable, nothing sent", async () => {
    const server = await serve("imap", { mechanisms: ["PLAIN"], extraCapabilities: ["XTLSREQUIRED"] });
    const refused = await login(server.url);
    expect(refused).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
    expect(refused.message).toContain("XTLSREQUIRED");
    expect(server.logins).toEqual([]);
  });

  it("IMAP without SASL-IR sends SCRAM's first message after the server's empty challenge", async () => {
    const server = await serve("imap", { mechanisms: ["SCRAM-SHA-256"], saslIr: false });
    expect(await login(server.url)).toMatchObject({ status: "OK", authMechanism: "SCRAM-SHA-256" });
  });

  it("POP3 prefers a shared SASL mechanism to USER/PASS, and falls back to it", async () => {
    const both = await serve("pop3", { mechanisms: ["PLAIN"] });
    expect(await login(both.url)).toMatchObject({ status: "OK", authMechanism: "PLAIN" });
    const userOnly = await serve("pop3", { mechanisms: [] });
    expect(await login(userOnly.url)).toMatchObject({ status: "OK", authMechanism: "POP3-USER" });
    expect(await login(both.url, { mechanism: "POP3-USER" })).toMatchObject({ authMechanism: "POP3-USER" });
    expect(both.logins).toEqual(["PLAIN ok", "POP3-USER ok"]);
  });
});
