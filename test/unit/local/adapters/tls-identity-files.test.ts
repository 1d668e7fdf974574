import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { STAT_INTERVAL_MS } from "../../../../core/basics/file-backed-value.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { checkEndpoint } from "../../../../core/checks/run-check.ts";
import { followIdentityFiles, TlsIdentityFiles } from "../../../../local/adapters/tls-identity-files.ts";
import type { InboundPort } from "../../../../local/serve/inbound-port.ts";
import { makeTestPki, type TestCert, type TestPki } from "../../../support/certs.ts";
import { openListenerWithIdentityFiles } from "../../../support/inbound-port-fixture.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";
import { replaceFile } from "../../../support/replace-file.ts";

let pki: TestPki;
let caFile: string;
beforeAll(async () => {
  pki = await makeTestPki(5);
  caFile = join(mkdtempSync(join(tmpdir(), "scout-identity-ca-")), "ca.pem");
  writeFileSync(caFile, pki.caPem);
});
const ports: InboundPort[] = [];
afterEach(async () => {
  await Promise.all(ports.splice(0).map((port) => port.close()));
});

/** serve's inbound listener, as InboundPort opens it, with its certificate and key in files. */
async function listenerWithFiles(identity: TestCert) {
  const log = new RecordingLogger();
  const { port, url, certFile, keyFile } = await openListenerWithIdentityFiles(identity, log);
  ports.push(port);
  const endpoint = parseEndpointUrl(url);
  /** The fingerprint of the certificate the next STARTTLS client is served. */
  const served = async () => {
    const result = await checkEndpoint(endpoint, { caFile, overallTimeoutMs: 10_000 });
    expect(result.startTls).toBe("used");
    return result.tls?.certificate?.fingerprintSha256;
  };
  return { certFile, keyFile, log, served };
}

const fingerprint = (identity: TestCert) => new X509Certificate(identity.cert).fingerprint256;

describe("the inbound listener's certificate files", () => {
  it("a certificate renewed on disk is served to the next STARTTLS client, no restart", async () => {
    const { certFile, keyFile, log, served } = await listenerWithFiles(pki.valid);
    expect(await served()).toBe(fingerprint(pki.valid));

    replaceFile(keyFile, pki.expiring.key);
    replaceFile(certFile, pki.expiring.cert);
    await sleep(STAT_INTERVAL_MS + 50);
    expect(await served()).toBe(fingerprint(pki.expiring));
    expect(log.entries).toContainEqual(expect.objectContaining({ message: "TLS certificate reloaded" }));
  });

  it("a certificate replaced before its key keeps the old pair served, warned once, until the key follows", async () => {
    const { certFile, keyFile, log, served } = await listenerWithFiles(pki.valid);
    replaceFile(certFile, pki.expiring.cert);
    await sleep(STAT_INTERVAL_MS + 50);
    expect(await served()).toBe(fingerprint(pki.valid));
    expect(await served()).toBe(fingerprint(pki.valid));
    const warnings = log.entries.filter((entry) => entry.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.fields.error)).toContain("do not load as a pair");

    replaceFile(keyFile, pki.expiring.key);
    await sleep(STAT_INTERVAL_MS + 50);
    expect(await served()).toBe(fingerprint(pki.expiring));
  });
});

describe("followIdentityFiles (a tls.Server: the dashboard's hook)", () => {
  it("serves a certificate renewed on disk from the next connection on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scout-identity-"));
    const certFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    writeFileSync(certFile, pki.valid.cert);
    writeFileSync(keyFile, pki.valid.key);
    const files = new TlsIdentityFiles(certFile, keyFile, new RecordingLogger());
    const server = createTlsServer(files.current(), (socket) => socket.end());
    followIdentityFiles(server, files);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    const served = async () => {
      const socket = tlsConnect({ host: "127.0.0.1", port, ca: pki.caPem, servername: "localhost" });
      await once(socket, "secureConnect");
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      socket.destroy();
      return fingerprint;
    };
    try {
      expect(await served()).toBe(fingerprint(pki.valid));
      replaceFile(keyFile, pki.expiring.key);
      replaceFile(certFile, pki.expiring.cert);
      await sleep(STAT_INTERVAL_MS + 50);
      expect(await served()).toBe(fingerprint(pki.expiring));
    } finally {
      server.close();
    }
  });
});
