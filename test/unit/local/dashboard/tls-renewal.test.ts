import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAT_INTERVAL_MS } from "../../../../core/basics/file-backed-value.ts";
import { TlsIdentityFiles } from "../../../../local/adapters/tls-identity-files.ts";
import type { Dashboard } from "../../../../local/dashboard/start-dashboard.ts";
import { makeTestPki, type TestCert, type TestPki } from "../../../support/certs.ts";
import { type DashboardFixture, makeDashboardFixture } from "../../../support/dashboard-fixture.ts";
import { memoryLogger, startFixtureDashboard } from "../../../support/dashboard-server.ts";
import { replaceFile } from "../../../support/replace-file.ts";

/** The dashboard over HTTPS, its certificate and key followed on disk as `serve` wires them. */
let pki: TestPki;
let fixture: DashboardFixture;
let dashboard: Dashboard;
let certFile: string;
let keyFile: string;

const fingerprint = (identity: TestCert) => new X509Certificate(identity.cert).fingerprint256;

beforeAll(async () => {
  pki = await makeTestPki(5);
  fixture = await makeDashboardFixture();
  const dir = mkdtempSync(join(tmpdir(), "scout-dashboard-tls-"));
  certFile = join(dir, "cert.pem");
  keyFile = join(dir, "key.pem");
  writeFileSync(certFile, pki.valid.cert);
  writeFileSync(keyFile, pki.valid.key);
  const log = memoryLogger();
  const follow = new TlsIdentityFiles(certFile, keyFile, log);
  dashboard = await startFixtureDashboard(fixture, {
    token: "renewal-token-0123456789abcdef",
    tls: { ...follow.current(), follow },
    log,
  });
});
afterAll(async () => {
  await dashboard?.close();
  fixture?.close();
});

/** The certificate a new HTTPS connection to the dashboard is served. */
async function served(): Promise<string | undefined> {
  const socket = tlsConnect({
    host: "127.0.0.1",
    port: dashboard.port,
    ca: pki.caPem,
    servername: "localhost",
  });
  await once(socket, "secureConnect");
  const served = socket.getPeerX509Certificate()?.fingerprint256;
  socket.destroy();
  return served;
}

describe("dashboard TLS", () => {
  it("serves a certificate renewed on disk from the next connection on, without a restart", async () => {
    expect(await served()).toBe(fingerprint(pki.valid));
    replaceFile(keyFile, pki.expiring.key);
    replaceFile(certFile, pki.expiring.cert);
    // The files are looked at once per STAT_INTERVAL_MS at most: wait past it.
    await sleep(STAT_INTERVAL_MS + 50);
    expect(await served()).toBe(fingerprint(pki.expiring));
  });
});
