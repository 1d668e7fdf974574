import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { STAT_INTERVAL_MS } from "../../../../core/basics/file-backed-value.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { checkEndpoint } from "../../../../core/checks/run-check.ts";
import { LOCAL_NAMES, makeSelfSigned } from "../../../support/certs.ts";
import { replaceFile } from "../../../support/replace-file.ts";
import { type SmtpPeer, startSmtpPeer } from "../../../support/smtp-peer.ts";

const peers: SmtpPeer[] = [];
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.close()));
});

describe("a pinned CA file replaced on disk", () => {
  it.each([
    ["replaced by rename", replaceFile],
    ["rewritten in place", (path: string, text: string) => writeFileSync(path, text)],
  ])("%s: the next check of the same planned check trusts the new certificate", async (_how, write) => {
    const old = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
    const renewed = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 10);
    const caFile = join(mkdtempSync(join(tmpdir(), "scout-trust-reload-")), "pinned.pem");
    writeFileSync(caFile, old.cert);
    const peer = await startSmtpPeer({ identity: old });
    peers.push(peer);
    const endpoint = parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`);
    const options = { caFile, overallTimeoutMs: 10_000 };

    expect(await checkEndpoint(endpoint, options)).toMatchObject({ status: "OK", reason: "ok" });

    peer.setIdentity(renewed);
    write(caFile, renewed.cert);
    await sleep(STAT_INTERVAL_MS + 50);
    const after = await checkEndpoint(endpoint, options);
    // Against the stale CA this certificate would be CRITICAL cert-untrusted; it only expires soon.
    expect(after).toMatchObject({ status: "WARNING", reason: "cert-expiring" });
    expect(after.tls).toMatchObject({ chainTrusted: true, certificate: { daysLeft: 9 } });
    expect(after.problems.map((problem) => problem.reason)).toEqual(["cert-expiring"]);
  });

  it("a CA file that holds no certificate is a config-error naming it, and the check recovers when it is fixed", async () => {
    const identity = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
    const caFile = join(mkdtempSync(join(tmpdir(), "scout-trust-reload-")), "pinned.pem");
    writeFileSync(caFile, identity.cert);
    const peer = await startSmtpPeer({ identity });
    peers.push(peer);
    const endpoint = parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`);
    const options = { caFile, overallTimeoutMs: 10_000 };
    expect((await checkEndpoint(endpoint, options)).status).toBe("OK");

    replaceFile(caFile, "not a certificate\n");
    await sleep(STAT_INTERVAL_MS + 50);
    const broken = await checkEndpoint(endpoint, options);
    expect(broken).toMatchObject({ status: "UNKNOWN", reason: "config-error" });
    expect(broken.message).toContain(caFile);

    replaceFile(caFile, identity.cert);
    await sleep(STAT_INTERVAL_MS + 50);
    expect((await checkEndpoint(endpoint, options)).status).toBe("OK");
  });
});
