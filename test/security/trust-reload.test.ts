/**
 * Issue 15, point 9: trust material is read again when its file changes, within one cycle and
 * without a restart. The case found by the fault run: a pinned self-signed certificate renewed
 * on disk (the server's and the pinned copy) kept every endpoint CRITICAL cert-untrusted, hid
 * the real verdict (cert-expiring), and made probes fail to send through the relay, until
 * serve restarted. The inbound listener's own certificate follows its files the same way.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { STAT_INTERVAL_MS } from "../../core/basics/file-backed-value.ts";
import { Secret } from "../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { checkEndpoint } from "../../core/checks/run-check.ts";
import { targetSchema } from "../../core/config/schema.ts";
import { planChecks } from "../../core/cycle/check-plan.ts";
import { SmtpSender } from "../../local/adapters/smtp-sender.ts";
import { LOCAL_NAMES, makeSelfSigned, makeTestPki } from "../support/certs.ts";
import { openListenerWithIdentityFiles } from "../support/inbound-port-fixture.ts";
import { replaceFile } from "../support/replace-file.ts";
import { type SmtpPeer, startSmtpPeer } from "../support/smtp-peer.ts";

const peers: SmtpPeer[] = [];
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.close()));
});

describe("a renewed pinned certificate (issue 15, point 9)", () => {
  it("the same planned check is only cert-expiring after the renewal, not cert-untrusted", async () => {
    const old = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
    const renewed = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 10);
    const pinnedFile = join(mkdtempSync(join(tmpdir(), "scout-security-trust-")), "mx.pem");
    writeFileSync(pinnedFile, old.cert);
    const peer = await startSmtpPeer({ identity: old });
    peers.push(peer);
    const target = targetSchema.parse({
      id: "mx",
      endpoints: [{ url: `smtp://127.0.0.1:${peer.port}`, caFile: pinnedFile }],
    });
    // Planned once, as serve does at start.
    const [planned] = planChecks({ targets: [target], outbound: {} }, () => new Secret("unused"));
    if (!planned) throw new Error("no check planned");
    const check = () => checkEndpoint(planned.endpoint, { ...planned.options, overallTimeoutMs: 10_000 });

    expect(await check()).toMatchObject({ status: "OK", reason: "ok" });
    peer.setIdentity(renewed);
    replaceFile(pinnedFile, renewed.cert);
    await sleep(STAT_INTERVAL_MS + 50);
    const after = await check();
    expect(after).toMatchObject({ status: "WARNING", reason: "cert-expiring" });
    expect(after.problems.map((problem) => problem.reason)).toEqual(["cert-expiring"]);
  });

  it("a probe goes through the relay after its pinned certificate was renewed and the relay restarted", async () => {
    const old = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
    const renewed = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
    const pinnedFile = join(mkdtempSync(join(tmpdir(), "scout-security-trust-")), "relay.pem");
    writeFileSync(pinnedFile, old.cert);
    let relay = await startSmtpPeer({ identity: old });
    const port = relay.port;
    const sender = new SmtpSender({
      relay: { host: "127.0.0.1", port },
      tls: "require-starttls",
      caFile: pinnedFile,
      keepRelayConnection: true,
      name: "scout.test",
    });
    const probe = {
      envelope: { from: "bounces+AbCdEfGh_-12345678@scout.example.net", to: ["probe@mx.example.com"] },
      raw: Buffer.from("Subject: probe\r\n\r\nbody\r\n"),
    };
    try {
      expect((await sender.send(probe)).response).toMatch(/^250 /);
      // The relay restarts with its new certificate on the same port: the kept connection is gone.
      await relay.close();
      relay = await startSmtpPeer({ identity: renewed, port });
      replaceFile(pinnedFile, renewed.cert);
      await sleep(STAT_INTERVAL_MS + 50);
      expect((await sender.send(probe)).response).toMatch(/^250 /);
    } finally {
      sender.close();
      await relay.close();
    }
  });

  it("the inbound listener serves its renewed certificate to the next STARTTLS client", async () => {
    const pki = await makeTestPki();
    const { port: listener, url, dir, certFile, keyFile } = await openListenerWithIdentityFiles(pki.valid);
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, pki.caPem);
    const check = () => checkEndpoint(parseEndpointUrl(url), { caFile, overallTimeoutMs: 10_000 });
    try {
      expect(await check()).toMatchObject({ status: "OK", startTls: "used" });
      replaceFile(keyFile, pki.expiring.key);
      replaceFile(certFile, pki.expiring.cert);
      await sleep(STAT_INTERVAL_MS + 50);
      // The renewed certificate expires in five days: the check sees it, so it is the one served.
      expect(await check()).toMatchObject({ status: "CRITICAL", reason: "cert-expiring", startTls: "used" });
    } finally {
      await listener.close();
    }
  });
});
