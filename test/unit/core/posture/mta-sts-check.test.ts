import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsResolver, type DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkMtaSts } from "../../../../core/posture/mta-sts-check.ts";
import { mxMatches } from "../../../../core/posture/mta-sts-parse.ts";
import { createHttpsPolicyFetch, type PolicyFetch } from "../../../../core/posture/policy-fetch.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { makeSelfSigned, makeTestPki } from "../../../support/certs.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";

/**
 * MTA-STS against a real HTTPS server on 127.0.0.1 (port 0) with certificates from a test CA,
 * and a DNS zone where every mta-sts.<case>.test points at it. Each case is a domain: its TXT
 * record, its MX hosts, and what its policy host serves.
 */
const policy = (mode: string, mx: string[], maxAge = 604800) =>
  ["version: STSv1", `mode: ${mode}`, ...mx.map((pattern) => `mx: ${pattern}`), `max_age: ${maxAge}`].join(
    "\r\n",
  );
const TEXT = "text/plain; charset=utf-8";

interface Case {
  mx?: string[];
  record?: string[];
  status?: number;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer the HTTP request. */
  silent?: boolean;
}
const CASES: Record<string, Case> = {
  good: { mx: ["mx1.good.test", "mx2.good.test"], body: policy("enforce", ["*.good.test"]) },
  lf: {
    mx: ["mx.lf.test"],
    body: "version: STSv1\nmode: testing\nmx: mx.lf.test\nmax_age: 86400\nfuture: ignored\n",
  },
  uncovered: {
    mx: ["mx.uncovered.test", "mx.elsewhere.test"],
    body: policy("enforce", ["mx.uncovered.test"]),
  },
  testing: { mx: ["mx.elsewhere.test"], body: policy("testing", ["mx.testing.test"]) },
  deep: { mx: ["a.b.deep.test"], body: policy("enforce", ["*.deep.test"]) },
  short: { mx: ["mx.short.test"], body: policy("enforce", ["mx.short.test"], 3600) },
  none: { mx: ["mx.elsewhere.test"], body: policy("none", [], 86400) },
  absent: { record: [] },
  two: { record: ["v=STSv1; id=1", "v=STSv1; id=2"] },
  noid: { record: ["v=STSv1;"] },
  longid: { record: [`v=STSv1; id=${"a".repeat(33)}`] },
  moved: { status: 301, headers: { location: "https://www.moved.test/mta-sts.txt" } },
  gone: { status: 404, body: "not found" },
  html: { type: "text/html", body: policy("enforce", ["*.html.test"]) },
  huge: { body: `${policy("enforce", ["*.huge.test"])}\r\n${"x: y\r\n".repeat(12_000)}` },
  strict: { body: policy("strict", ["*.strict.test"]) },
  bigage: { body: policy("enforce", ["*.bigage.test"], 31557601) },
  nomx: { body: policy("enforce", []) },
  badmx: { body: policy("enforce", ["mx_1.badmx.test"]) },
  selfsigned: { body: policy("enforce", ["*.selfsigned.test"]) },
  wrongname: { body: policy("enforce", ["*.wrongname.test"]) },
  slow: { silent: true },
  garbage: { body: "\u0000\u0001<html><body>policy</body></html>" },
  empty: { body: "" },
};

const zone = (): ZoneRecord[] =>
  Object.entries(CASES).flatMap(([label, entry]): ZoneRecord[] => [
    ...(entry.record ?? [`v=STSv1; id=20261202T000000`]).map(
      (text): ZoneRecord => [`_mta-sts.${label}.test`, "TXT", text],
    ),
    ...(entry.mx ?? [`mx.${label}.test`]).map((host): ZoneRecord => [`${label}.test`, "MX", `10 ${host}`]),
    [`mta-sts.${label}.test`, "A", "127.0.0.1"],
    [`${label}.test`, "A", "192.0.2.1"],
  ]);
const EXTRA: ZoneRecord[] = [
  ["_mta-sts.noaddr.test", "TXT", "v=STSv1; id=1"],
  ["mta-sts.noaddr.test", "TXT", "no address here"],
  ["_mta-sts.lostpolicy.test", "TXT", "v=STSv1; id=1"],
  ["mta-sts.lostpolicy.test", "SILENT", ""],
  ["_mta-sts.broken.test", "SERVFAIL", ""],
];

let peer: DnsPeer & { resolver: DnsResolver };
let server: Server;
let caDir: string;
let caFile: string;
let fetchPolicy: PolicyFetch;

beforeAll(async () => {
  const pki = await makeTestPki();
  const names = Object.keys(CASES)
    .filter((label) => label !== "selfsigned" && label !== "wrongname")
    .map((label) => ({ type: "dns" as const, value: `mta-sts.${label}.test` }));
  const good = createSecureContext(await pki.issue(names));
  const selfSigned = createSecureContext(
    await makeSelfSigned("CN=mta-sts.selfsigned.test", [{ type: "dns", value: "mta-sts.selfsigned.test" }]),
  );
  const wrongName = createSecureContext(pki.valid);
  server = createServer(
    {
      ...(await pki.issue(names)),
      SNICallback: (name, done) =>
        done(
          null,
          name === "mta-sts.selfsigned.test"
            ? selfSigned
            : name === "mta-sts.wrongname.test"
              ? wrongName
              : good,
        ),
    },
    (request, response) => {
      const label = (request.headers.host ?? "").split(".")[1] ?? "";
      const entry = CASES[label];
      if (!entry || request.url !== "/.well-known/mta-sts.txt") {
        response.writeHead(500).end();
        return;
      }
      if (entry.silent) return;
      response.writeHead(entry.status ?? 200, { "content-type": entry.type ?? TEXT, ...entry.headers });
      response.end(entry.body ?? "");
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  peer = await startZonePeer([...zone(), ...EXTRA]);
  caDir = await mkdtemp(join(tmpdir(), "mta-sts-ca-"));
  caFile = join(caDir, "ca.pem");
  await writeFile(caFile, pki.caPem);
  // The policy URL names port 443; the test server listens elsewhere.
  const real = createHttpsPolicyFetch(peer.resolver);
  fetchPolicy = (request) =>
    real({ ...request, url: request.url.replace(/^https:\/\/([^/]+)\//, `https://$1:${port}/`) });
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await peer?.close();
  await rm(caDir, { recursive: true, force: true });
});

const check = (domain: string, options: { required?: boolean; timeoutMs?: number } = {}) =>
  checkMtaSts(peer.resolver, domain, { fetchPolicy, caFile, ...options });
const summary = (result: PostureResult) => [result.status, result.reason, result.message];
const url = (label: string) => `https://mta-sts.${label}.test/.well-known/mta-sts.txt`;

describe("mx: patterns (RFC 8461 §4.1)", () => {
  it.each([
    ["mx.example.com", "mx.example.com", true],
    ["MX.Example.com.", "mx.example.com", true],
    ["*.example.com", "mail.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "a.b.example.com", false],
    ["*.example.com", "mail.example.net", false],
    ["mx.example.com", "mx2.example.com", false],
  ])("%s matches %s: %s", (pattern, host, matches) => {
    expect(mxMatches(pattern, host)).toBe(matches);
  });
});

describe("MTA-STS posture (RFC 8461)", () => {
  it.each([
    ["good", "OK", "ok", "MTA-STS mode enforce, max_age 604800, id 20261202T000000"],
    ["lf", "OK", "ok", "MTA-STS mode testing, max_age 86400, id 20261202T000000"],
    ["none", "OK", "ok", "MTA-STS mode none (policy withdrawn), id 20261202T000000"],
    ["absent", "OK", "ok", "MTA-STS not published"],
    [
      "uncovered",
      "CRITICAL",
      "mta-sts-mx-not-covered",
      "MX mx.elsewhere.test matches no mx: of the policy (mx.uncovered.test); mode enforce: senders will refuse to deliver to it",
    ],
    [
      "testing",
      "WARNING",
      "mta-sts-mx-not-covered",
      "MX mx.elsewhere.test matches no mx: of the policy (mx.testing.test); mode testing: senders report it",
    ],
    [
      "deep",
      "CRITICAL",
      "mta-sts-mx-not-covered",
      "MX a.b.deep.test matches no mx: of the policy (*.deep.test); mode enforce: senders will refuse to deliver to it",
    ],
    [
      "short",
      "WARNING",
      "mta-sts-max-age-short",
      `${url("short")}: max_age 3600 s is under a day; weeks are usual`,
    ],
    ["two", "WARNING", "mta-sts-record-invalid", "_mta-sts.two.test has 2 v=STSv1 records: senders use none"],
    [
      "noid",
      "WARNING",
      "mta-sts-record-invalid",
      "_mta-sts.noid.test: the required field id= is missing (RFC 8461 §3.1)",
    ],
    [
      "longid",
      "WARNING",
      "mta-sts-record-invalid",
      `_mta-sts.longid.test: id=${"a".repeat(33)} is not 1 to 32 letters and digits (RFC 8461 §3.1)`,
    ],
    [
      "moved",
      "WARNING",
      "mta-sts-policy-unavailable",
      `${url("moved")}: HTTP 301 redirect to https://www.moved.test/mta-sts.txt; senders follow no redirects (RFC 8461 §3.3)`,
    ],
    ["gone", "WARNING", "mta-sts-policy-unavailable", `${url("gone")}: HTTP 404, not 200`],
    [
      "html",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("html")}: served as text/html, not text/plain (RFC 8461 §3.3)`,
    ],
    ["huge", "WARNING", "mta-sts-policy-unavailable", `${url("huge")}: the reply is over 65536 bytes`],
    [
      "strict",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("strict")}: mode: strict is not enforce, testing or none`,
    ],
    [
      "bigage",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("bigage")}: max_age: 31557601 is not a whole number of seconds from 0 to 31557600`,
    ],
    [
      "nomx",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("nomx")}: mode: enforce needs at least one mx: line`,
    ],
    [
      "badmx",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("badmx")}: mx: mx_1.badmx.test is not a host name or *.<domain> pattern (RFC 8461 §3.2)`,
    ],
    [
      "selfsigned",
      "WARNING",
      "mta-sts-policy-unavailable",
      `${url("selfsigned")}: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    ],
    [
      "noaddr",
      "WARNING",
      "mta-sts-policy-unavailable",
      `${url("noaddr")}: mta-sts.noaddr.test has no A or AAAA record`,
    ],
    [
      "garbage",
      "WARNING",
      "mta-sts-policy-invalid",
      `${url("garbage")}: line 1 is not "key: value": "\u0000\u0001<html><body>policy</body></html>"`,
    ],
    ["empty", "WARNING", "mta-sts-policy-invalid", `${url("empty")}: no version: field`],
  ])("%s.test: %s %s", async (label, status, reason, message) => {
    expect(summary(await check(`${label}.test`))).toEqual([status, reason, message]);
  });

  it("a certificate for another name: the TLS error names the mismatch", async () => {
    const result = await check("wrongname.test");
    expect([result.status, result.reason]).toEqual(["WARNING", "mta-sts-policy-unavailable"]);
    expect(result.message).toMatch(
      /^https:\/\/mta-sts\.wrongname\.test\/\.well-known\/mta-sts\.txt: Hostname\/IP does not match certificate's altnames: .*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/,
    );
  });

  it("a policy host trusted only by the test CA fails against the system's CAs", async () => {
    const result = await checkMtaSts(peer.resolver, "good.test", { fetchPolicy });
    expect([result.status, result.reason]).toEqual(["WARNING", "mta-sts-policy-unavailable"]);
    expect(result.message).toContain("(UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
  });

  it("a policy host that never answers: the fetch deadline names its time", async () => {
    const result = await check("slow.test", { timeoutMs: 300 });
    expect([result.status, result.reason]).toEqual(["WARNING", "mta-sts-policy-unavailable"]);
    expect(result.message).toMatch(
      /^https:\/\/mta-sts\.slow\.test\/\.well-known\/mta-sts\.txt: no complete reply within \d+ ms$/,
    );
  });

  it("required: a missing record is a WARNING", async () => {
    expect(summary(await check("absent.test", { required: true }))).toEqual([
      "WARNING",
      "mta-sts-missing",
      "_mta-sts.absent.test has no v=STSv1 record",
    ]);
  });

  it("the facts: record, id, policy, each MX host with its pattern, days left on the policy host's certificate", async () => {
    const result = await check("good.test");
    expect(result.facts).toEqual({
      published: true,
      record: "v=STSv1; id=20261202T000000",
      id: "20261202T000000",
      policyUrl: url("good"),
      policy: { version: "STSv1", mode: "enforce", maxAge: 604800, mx: ["*.good.test"] },
      mxHosts: [
        { host: "mx1.good.test", pattern: "*.good.test" },
        { host: "mx2.good.test", pattern: "*.good.test" },
      ],
      certificateDaysLeft: 89,
    });
  });

  it("DNS failures are UNKNOWN dns-errors naming the query: the record, and the policy host", async () => {
    const fast = createDnsResolver({
      server: { host: "127.0.0.1", port: peer.port },
      timeoutMs: 200,
      retries: 0,
    });
    expect(summary(await checkMtaSts(fast, "broken.test", { fetchPolicy }))).toEqual([
      "UNKNOWN",
      "dns-error",
      `DNS TXT _mta-sts.broken.test @127.0.0.1:${peer.port}: SERVFAIL (the server could not answer; often a DNSSEC failure)`,
    ]);
    const lost = await checkMtaSts(fast, "lostpolicy.test", { fetchPolicy: createHttpsPolicyFetch(fast) });
    expect(summary(lost)).toEqual([
      "UNKNOWN",
      "dns-error",
      `fetching ${url("lostpolicy")}: DNS A mta-sts.lostpolicy.test @127.0.0.1:${peer.port}: no reply to 1 UDP try of 200 ms each`,
    ]);
  });
});
