import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import type { OutgoingMessage } from "../../../../core/ports/mail-sender.ts";
import { LOCAL_NAMES, makeSelfSigned, type TestCert } from "../../../support/certs.ts";
import { type SmtpPeer, startSmtpPeer } from "../../../support/smtp-peer.ts";

/*
 * The relay's TLS modes do what their names say, and without a CA file the relay is trusted
 * as the checks trust it: Node's bundle, the system's CAs, and NODE_EXTRA_CA_CERTS.
 * The trust store is built once per process, so each case imports the modules afresh after
 * setting the environment.
 */

let identity: TestCert;
let peer: SmtpPeer;
let extraCa: string;
const savedExtra = process.env.NODE_EXTRA_CA_CERTS;

beforeAll(async () => {
  identity = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
  peer = await startSmtpPeer({ identity });
  extraCa = join(mkdtempSync(join(tmpdir(), "scout-extra-ca-")), "extra.pem");
  writeFileSync(extraCa, identity.cert);
});
afterAll(async () => {
  await peer.close();
});
afterEach(() => {
  if (savedExtra === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = savedExtra;
});

const message: OutgoingMessage = {
  envelope: { from: "bounces+x@scout.example.net", to: ["probe@mx1.example.com"] },
  raw: Buffer.from("From: a@scout.example.net\r\nTo: probe@mx1.example.com\r\nSubject: t\r\n\r\nbody\r\n"),
};

async function freshModules(extra: string | undefined) {
  if (extra === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = extra;
  vi.resetModules();
  const sender = await import("../../../../local/adapters/smtp-sender.ts");
  const checks = await import("../../../../core/checks/run-check.ts");
  const endpoints = await import("../../../../core/checks/endpoint.ts");
  return { ...sender, ...checks, ...endpoints };
}

describe("the relay's TLS modes", () => {
  it("starttls (the default) verifies the certificate: a self-signed relay is refused", async () => {
    const { SmtpSender } = await freshModules(undefined);
    const sender = new SmtpSender({ relay: { host: "127.0.0.1", port: peer.port } });
    await expect(sender.send(message)).rejects.toMatchObject({ code: "ETLS", temporary: false });
  });

  it("opportunistic encrypts without verifying, as the word means in mail", async () => {
    const { SmtpSender } = await freshModules(undefined);
    const sender = new SmtpSender({ relay: { host: "127.0.0.1", port: peer.port }, tls: "opportunistic" });
    expect((await sender.send(message)).response).toMatch(/^250 /);
  });

  it("opportunistic refuses to carry a relay password", async () => {
    const { SmtpSender } = await freshModules(undefined);
    expect(
      () =>
        new SmtpSender({
          relay: { host: "127.0.0.1", port: peer.port },
          tls: "opportunistic",
          auth: { user: "u", password: new Secret("p") },
        }),
    ).toThrow(/verified TLS/);
  });
});

describe("NODE_EXTRA_CA_CERTS", () => {
  it("is trusted by the relay in its verifying mode", async () => {
    const { SmtpSender } = await freshModules(extraCa);
    const sender = new SmtpSender({ relay: { host: "127.0.0.1", port: peer.port } });
    expect((await sender.send(message)).response).toMatch(/^250 /);
  });

  it("is trusted by the checks, and a CA missing from it still is not", async () => {
    const trusted = await freshModules(extraCa);
    const endpoint = trusted.parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`);
    expect(await trusted.checkEndpoint(endpoint, { overallTimeoutMs: 10_000 })).toMatchObject({
      status: "OK",
      reason: "ok",
    });
    const other = await makeSelfSigned("CN=other", LOCAL_NAMES, 90);
    const otherFile = join(mkdtempSync(join(tmpdir(), "scout-extra-ca-")), "other.pem");
    writeFileSync(otherFile, other.cert);
    const untrusted = await freshModules(otherFile);
    expect(await untrusted.checkEndpoint(endpoint, { overallTimeoutMs: 10_000 })).toMatchObject({
      status: "CRITICAL",
      reason: "cert-untrusted",
    });
  });

  it("naming a file that cannot be read is a config-error that names the variable", async () => {
    const { checkEndpoint, parseEndpointUrl } = await freshModules("/nonexistent/extra-ca.pem");
    const result = await checkEndpoint(parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`), {
      overallTimeoutMs: 10_000,
    });
    expect(result).toMatchObject({ status: "UNKNOWN", reason: "config-error" });
    expect(result.message).toContain("NODE_EXTRA_CA_CERTS");
    expect(result.message).toContain("/nonexistent/extra-ca.pem");
  });
});
