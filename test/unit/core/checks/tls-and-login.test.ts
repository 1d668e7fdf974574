import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../../../../core/checks/run-check.ts";
import { makeTestPki, type TestCert, type TestPki } from "../../../support/certs.ts";
import { startFakeImap, startFakePop3 } from "../../../support/fake-mail-servers.ts";
import type { LineServer } from "../../../support/line-server.ts";
import { startSmtpPeer } from "../../../support/smtp-peer.ts";

let pki: TestPki;
let caFile: string;
const closers: (() => Promise<void>)[] = [];
const USER = "scout";
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  pki = await makeTestPki(5);
  const dir = mkdtempSync(join(tmpdir(), "scout-tls-"));
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, pki.caPem);
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

type Kind = "smtp" | "submission" | "smtps" | "imap" | "imaps" | "pop3" | "pop3s";

/** Starts a peer for the endpoint kind, serving `cert`, and returns its URL on 127.0.0.1. */
async function peer(kind: Kind, cert: TestCert): Promise<string> {
  let port: number;
  if (kind === "smtp" || kind === "submission" || kind === "smtps") {
    const server = await startSmtpPeer({
      identity: cert,
      implicitTls: kind === "smtps",
      user: USER,
      password: PASSWORD,
    });
    closers.push(server.close);
    port = server.port;
  } else {
    const implicit = kind === "imaps" || kind === "pop3s";
    const options = { user: USER, password: PASSWORD, ...(implicit ? { implicitTls: cert } : { tls: cert }) };
    const server: LineServer = kind.startsWith("imap")
      ? await startFakeImap(options)
      : await startFakePop3(options);
    closers.push(server.close);
    port = server.port;
  }
  return `${kind}://127.0.0.1:${port}`;
}

function options(extra: CheckOptions = {}): CheckOptions {
  return { caFile, overallTimeoutMs: 20_000, ...extra };
}

const credentials = (password = PASSWORD) => ({ user: USER, password: new Secret(password) });
const KINDS: Kind[] = ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s"];

describe.each(KINDS)("%s", (kind) => {
  it("is OK with a trusted certificate, and reports TLS facts and every phase", async () => {
    const url = await peer(kind, pki.valid);
    const result: CheckResult = await checkEndpoint(parseEndpointUrl(url), options());
    expect(result).toMatchObject({ status: "OK", reason: "ok", login: "not-asked", quit: "ok" });
    expect(result.tls).toMatchObject({ chainTrusted: true, hostnameMatch: true, checkedName: "127.0.0.1" });
    expect(result.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(result.tls?.certificate).toMatchObject({
      subject: "CN=localhost",
      issuer: "CN=Email Scout Test CA",
    });
    expect(result.tls?.certificate?.daysLeft).toBe(89);
    expect(result.tls?.certificate?.subjectAltNames).toContain("IP Address:127.0.0.1");
    const phases = Object.keys(result.timings);
    expect(phases).toEqual(
      expect.arrayContaining(["resolve", "connect", "tls", "greeting", "capabilities", "quit"]),
    );
    if (!kind.endsWith("s")) {
      expect(result.startTls).toBe("used");
      expect(phases).toEqual(expect.arrayContaining(["starttls", "capabilitiesAfterTls"]));
    }
  });

  it("logs in with the right password", async () => {
    const url = await peer(kind, pki.valid);
    const result = await checkEndpoint(parseEndpointUrl(url), options({ credentials: credentials() }));
    expect(result).toMatchObject({ status: "OK", login: "ok" });
    expect(result.timings.login).toBeGreaterThanOrEqual(0);
  });

  it("reports a wrong password as auth-failed, without ever showing it", async () => {
    const url = await peer(kind, pki.valid);
    const result = await checkEndpoint(
      parseEndpointUrl(url),
      options({ credentials: credentials("wrong-password-123") }),
    );
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "auth-failed",
      failedPhase: "login",
      login: "failed",
    });
    expect(JSON.stringify(result)).not.toContain("wrong-password-123");
  });

  it.each([
    ["expired", "cert-expired", "CRITICAL"],
    ["selfSigned", "cert-untrusted", "CRITICAL"],
    ["wrongHost", "cert-hostname-mismatch", "CRITICAL"],
    ["expiring", "cert-expiring", "CRITICAL"],
  ] as const)("with a %s certificate is %s", async (which, reason, status) => {
    const url = await peer(kind, pki[which]);
    const result = await checkEndpoint(parseEndpointUrl(url), options());
    expect(result).toMatchObject({ status, reason });
  });
});

describe("certificate details", () => {
  it("an expiring certificate is a WARNING between the thresholds", async () => {
    const url = await peer("smtps", pki.expiring);
    const result = await checkEndpoint(
      parseEndpointUrl(url),
      options({ thresholds: { certWarningDays: 30, certCriticalDays: 3 } }),
    );
    expect(result).toMatchObject({ status: "WARNING", reason: "cert-expiring" });
    expect(result.tls?.certificate?.daysLeft).toBe(5);
  });

  it("a self-signed certificate verifies against the system CAs as untrusted, with OpenSSL's code", async () => {
    const url = await peer("imaps", pki.selfSigned);
    const result = await checkEndpoint(parseEndpointUrl(url), { overallTimeoutMs: 20_000 });
    expect(result.tls).toMatchObject({ chainTrusted: false, verifyError: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  });

  it("a CA-signed certificate is untrusted without the CA file", async () => {
    const url = await peer("pop3s", pki.valid);
    const result = await checkEndpoint(parseEndpointUrl(url), { overallTimeoutMs: 20_000 });
    expect(result).toMatchObject({ status: "CRITICAL", reason: "cert-untrusted" });
  });

  it("servername= sets the name checked against the certificate", async () => {
    const url = await peer("smtps", pki.valid);
    const result = await checkEndpoint(parseEndpointUrl(`${url}?servername=localhost`), options());
    expect(result).toMatchObject({ status: "OK" });
    expect(result.tls?.checkedName).toBe("localhost");
    const wrong = await checkEndpoint(parseEndpointUrl(`${url}?servername=mail.example.org`), options());
    expect(wrong).toMatchObject({ status: "CRITICAL", reason: "cert-hostname-mismatch" });
  });

  it("a missing CA file is a config error naming the file", async () => {
    const url = await peer("smtps", pki.valid);
    const result = await checkEndpoint(parseEndpointUrl(url), { caFile: "/nonexistent/ca.pem" });
    expect(result).toMatchObject({ status: "UNKNOWN", reason: "config-error" });
    expect(result.message).toContain("/nonexistent/ca.pem");
  });
});
