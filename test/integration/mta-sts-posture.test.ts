import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMtaSts } from "../../core/posture/mta-sts-check.ts";
import { createHttpsPolicyFetch, type PolicyFetch } from "../../core/posture/policy-fetch.ts";
import { makeTestPki } from "../support/certs.ts";
import { type NsdServer, startNsd } from "../support/nsd-server.ts";

/**
 * MTA-STS end to end on loopback: Debian's NSD serves the _mta-sts records, the MX records and
 * the policy hosts' addresses; an HTTPS server with a test CA's certificate serves the policies.
 * Only the port differs from production (the policy URL names 443).
 */
const POLICIES: Record<string, string> = {
  sts: "version: STSv1\r\nmode: enforce\r\nmx: *.sts.posture.test\r\nmax_age: 1209600\r\n",
  drift: "version: STSv1\r\nmode: enforce\r\nmx: mx.old-provider.test\r\nmax_age: 1209600\r\n",
};
const RECORDS = `
sts IN MX 10 mx1.sts
mx1.sts IN A 127.0.0.10
_mta-sts.sts IN TXT "v=STSv1; id=20261202T1200"
mta-sts.sts IN A 127.0.0.1
drift IN MX 10 mx.drift
mx.drift IN A 127.0.0.11
_mta-sts.drift IN TXT "v=STSv1; id=1"
mta-sts.drift IN A 127.0.0.1
`;

let nsd: NsdServer;
let server: Server;
let caDir: string;
let caFile: string;
let fetchPolicy: PolicyFetch;

beforeAll(async () => {
  const pki = await makeTestPki();
  const identity = await pki.issue(
    Object.keys(POLICIES).map((label) => ({ type: "dns" as const, value: `mta-sts.${label}.posture.test` })),
  );
  server = createServer(identity, (request, response) => {
    const policy = POLICIES[(request.headers.host ?? "").split(".")[1] ?? ""];
    if (policy === undefined || request.url !== "/.well-known/mta-sts.txt") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/plain" }).end(policy);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  nsd = await startNsd([{ origin: "posture.test", records: RECORDS }]);
  caDir = await mkdtemp(join(tmpdir(), "mta-sts-ca-"));
  caFile = join(caDir, "ca.pem");
  await writeFile(caFile, pki.caPem);
  const real = createHttpsPolicyFetch(nsd.resolver);
  fetchPolicy = (request) =>
    real({ ...request, url: request.url.replace(/^https:\/\/([^/]+)\//, `https://$1:${port}/`) });
});
afterAll(async () => {
  await nsd?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (caDir) await rm(caDir, { recursive: true, force: true });
});

describe("MTA-STS against NSD and an HTTPS policy host", () => {
  it("a policy whose mx: pattern covers the MX: OK, with the policy and each host's pattern", async () => {
    const result = await checkMtaSts(nsd.resolver, "sts.posture.test", { fetchPolicy, caFile });
    expect([result.status, result.reason, result.message]).toEqual([
      "OK",
      "ok",
      "MTA-STS mode enforce, max_age 1209600, id 20261202T1200",
    ]);
    expect(result.facts.mxHosts).toEqual([{ host: "mx1.sts.posture.test", pattern: "*.sts.posture.test" }]);
  });

  it("an MX moved to a host the enforced policy does not name: CRITICAL", async () => {
    const result = await checkMtaSts(nsd.resolver, "drift.posture.test", { fetchPolicy, caFile });
    expect([result.status, result.reason, result.message]).toEqual([
      "CRITICAL",
      "mta-sts-mx-not-covered",
      "MX mx.drift.posture.test matches no mx: of the policy (mx.old-provider.test); mode enforce: senders will refuse to deliver to it",
    ]);
  });

  it("the policy host checked against the system's CAs: the test CA is not trusted", async () => {
    const result = await checkMtaSts(nsd.resolver, "sts.posture.test", { fetchPolicy });
    expect([result.status, result.reason]).toEqual(["WARNING", "mta-sts-policy-unavailable"]);
    expect(result.message).toContain("unable to verify the first certificate");
  });
});
