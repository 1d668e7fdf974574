import { beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { type CheckOptions, checkEndpoint } from "../../core/checks/run-check.ts";
import type { LoginMechanismName } from "../../core/checks/sasl/mechanism-names.ts";
import { readPasswordFile } from "../../local/cli/read-password.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

// Against the real Postfix and Dovecot of the demo mail host, on loopback.
let demo: DemoHost;
beforeAll(() => {
  demo = demoHost();
});

const KINDS = ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s"] as const;
const check = (url: string, options: CheckOptions = {}) =>
  checkEndpoint(parseEndpointUrl(url), { caFile: demo.caFile, ...options });

describe.each(KINDS)("%s on the demo host", (kind) => {
  it("is OK, with TLS facts and the certificate's known days left", async () => {
    const result = await check(`${kind}://${demo.host}`);
    expect(result).toMatchObject({ status: "OK", reason: "ok", quit: "ok" });
    expect(result.tls).toMatchObject({ chainTrusted: true, hostnameMatch: true });
    expect(result.tls?.certificate?.daysLeft).toBe(demo.certDaysLeft);
    expect(result.tls?.certificate?.subjectAltNames).toContain("DNS:mail.scout.test");
    if (kind === "smtp" || kind === "submission")
      expect(result.banner).toMatch(/^220 mail\.scout\.test ESMTP/);
    if (kind.startsWith("imap")) expect(result.capabilities).toContain("IMAP4rev1");
    if (!kind.endsWith("s")) expect(result.startTls).toBe("used");
  });

  it("is untrusted without the demo CA", async () => {
    const result = await check(`${kind}://${demo.host}`, { caFile: undefined });
    expect(result).toMatchObject({ status: "CRITICAL", reason: "cert-untrusted" });
  });

  if (kind !== "smtp") {
    it("logs in as the demo user", async () => {
      const credentials = { user: demo.user, password: readPasswordFile(demo.passwordFile) };
      const result = await check(`${kind}://${demo.host}`, { credentials });
      // Dovecot (and Postfix through Dovecot's SASL) offer SCRAM: the strongest is chosen. quit
      // "ok": a real server's goodbye (IMAP: NOOP after login, then LOGOUT's own BYE) is not
      // mistaken for a refusal.
      expect(result).toMatchObject({ status: "OK", login: "ok", authMechanism: "SCRAM-SHA-256", quit: "ok" });
    });

    it("names a wrong password auth-failed", async () => {
      const credentials = { user: demo.user, password: new Secret("not-the-password") };
      const result = await check(`${kind}://${demo.host}`, { credentials });
      expect(result).toMatchObject({ status: "CRITICAL", reason: "auth-failed", failedPhase: "login" });
    });
  }
});

describe("each SASL mechanism against Dovecot's own verification", () => {
  beforeAll(async () => {
    const result = await check(`imaps://${demo.host}`);
    if (!result.capabilities?.includes("AUTH=SCRAM-SHA-256")) {
      throw new Error(
        `the demo host's Dovecot does not offer SCRAM (capabilities: ${result.capabilities?.join(" ")}); run bash scripts/demo-mailhost.sh up from this checkout`,
      );
    }
  });

  const MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"] as const;
  const KINDS_WITH_LOGIN = ["imaps", "pop3s", "submission"] as const;
  it.each(KINDS_WITH_LOGIN.flatMap((kind) => MECHANISMS.map((mechanism) => [kind, mechanism] as const)))(
    "%s logs in with %s",
    async (kind, mechanism) => {
      const credentials = { user: demo.user, password: readPasswordFile(demo.passwordFile), mechanism };
      const result = await check(`${kind}://${demo.host}`, { credentials });
      expect(result).toMatchObject({ status: "OK", login: "ok", authMechanism: mechanism });
    },
  );

  it.each(["SCRAM-SHA-1", "CRAM-MD5"] as const)(
    "a wrong password with %s is auth-failed",
    async (mechanism) => {
      const credentials = { user: demo.user, password: new Secret("not-the-password"), mechanism };
      const result = await check(`imaps://${demo.host}`, { credentials });
      expect(result).toMatchObject({ status: "CRITICAL", reason: "auth-failed", authMechanism: mechanism });
    },
  );

  it("the protocols' own commands still work when named", async () => {
    const password = readPasswordFile(demo.passwordFile);
    const imap = await check(`imaps://${demo.host}`, {
      credentials: { user: demo.user, password, mechanism: "IMAP-LOGIN" },
    });
    expect(imap).toMatchObject({ status: "OK", authMechanism: "IMAP-LOGIN" });
    const pop3 = await check(`pop3s://${demo.host}`, {
      credentials: { user: demo.user, password, mechanism: "POP3-USER" },
    });
    expect(pop3).toMatchObject({ status: "OK", authMechanism: "POP3-USER" });
  });
});

describe("demo host specifics", () => {
  it("a URL of the wrong kind for its port says which one was probably meant", async () => {
    const plainOnTls = await check(`imap://${demo.host}:993`, { timeouts: { greeting: 1_500 } });
    expect(plainOnTls).toMatchObject({ status: "CRITICAL", reason: "timeout-greeting" });
    expect(plainOnTls.message).toContain(`did you mean imaps://${demo.host}:993?`);
    const tlsOnPlain = await check(`imaps://${demo.host}:143`);
    expect(tlsOnPlain).toMatchObject({ status: "CRITICAL", reason: "tls-failed" });
    expect(tlsOnPlain.message).toContain(`did you mean imap://${demo.host}:143?`);
  });

  it("port 25 offers no AUTH, so a login there is auth-unavailable", async () => {
    const credentials = { user: demo.user, password: readPasswordFile(demo.passwordFile) };
    const result = await check(`smtp://${demo.host}`, { credentials });
    expect(result).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
  });

  it("the certificate's own name verifies through servername=", async () => {
    const result = await check(`imaps://${demo.host}?servername=mail.scout.test`);
    expect(result).toMatchObject({ status: "OK" });
    expect(result.tls?.checkedName).toBe("mail.scout.test");
    const wrong = await check(`imaps://${demo.host}?servername=mail.other.test`);
    expect(wrong).toMatchObject({ status: "CRITICAL", reason: "cert-hostname-mismatch" });
  });

  it("Dovecot refuses plaintext login before TLS from a non-local source (LOGINDISABLED), but not SCRAM", async () => {
    const password = readPasswordFile(demo.passwordFile);
    const beforeTls = (mechanism?: LoginMechanismName) =>
      check(`imap://${demo.host}?starttls=off`, {
        credentials: { user: demo.user, password, ...(mechanism ? { mechanism } : {}) },
        sourceAddress: "127.0.0.2",
      });
    for (const plaintext of ["PLAIN", "IMAP-LOGIN"] as const) {
      const refused = await beforeTls(plaintext);
      expect(refused).toMatchObject({ status: "CRITICAL", reason: "auth-unavailable" });
      expect(refused.capabilities).toContain("LOGINDISABLED");
      expect(refused.message).toContain(`${plaintext} was asked for`);
    }
    const scram = await beforeTls();
    expect(scram).toMatchObject({ status: "OK", login: "ok", authMechanism: "SCRAM-SHA-256" });
  });

  it("the certificate thresholds turn the known expiry into WARNING and CRITICAL", async () => {
    const warn = await check(`smtps://${demo.host}`, { thresholds: { certWarningDays: demo.certDaysLeft } });
    expect(warn).toMatchObject({ status: "WARNING", reason: "cert-expiring" });
    const crit = await check(`pop3s://${demo.host}`, { thresholds: { certCriticalDays: demo.certDaysLeft } });
    expect(crit).toMatchObject({ status: "CRITICAL", reason: "cert-expiring" });
  });

  it("checks ::1 when the demo host listens on IPv6", async (context) => {
    if (!demo.ipv6) context.skip();
    const result = await check("imaps://[::1]");
    expect(result).toMatchObject({ status: "OK", address: "::1" });
  });
});
