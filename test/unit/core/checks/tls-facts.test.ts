import { type AddressInfo, connect as netConnect } from "node:net";
import {
  checkServerIdentity,
  createSecureContext,
  createServer,
  type Server,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tlsFactsOf } from "../../../../core/checks/tls-facts.ts";
import { tlsHandshake } from "../../../../core/checks/tls-handshake.ts";
import { makeSelfSigned, makeTestPki, type TestCert } from "../../../support/certs.ts";

/*
 * The checks read certificate facts from the X509Certificate and skip Node's detailed
 * getPeerCertificate() during the handshake (a CPU saving). These tests hold the result to what
 * Node's own path gives: checkServerIdentity on the certificate a plain tls.connect returns.
 */

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** By default keeps each connection open until the client closes it, as a mail server waits. */
async function tlsServer(cert: TestCert, closeAtOnce = false): Promise<number> {
  const server = createServer({ cert: cert.cert, key: cert.key }, (socket) => {
    socket.on("error", () => {});
    if (closeAtOnce) socket.destroy();
    else socket.resume();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Node's own answer: checkServerIdentity on the certificate of a plain handshake. */
async function nodeIdentityError(port: number, name: string): Promise<string | undefined> {
  const socket = tlsConnect({
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const error = checkServerIdentity(name, socket.getPeerCertificate(true));
  socket.destroy();
  return error?.message;
}

/** Ours: tlsHandshake (as the checks run it), then tlsFactsOf. */
async function ourFacts(port: number, name: string, trust = createSecureContext({})) {
  const plain = netConnect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => plain.once("connect", resolve).once("error", reject));
  const secure = await tlsHandshake(plain, {
    serverName: name,
    trust,
    deadline: Date.now() + 20_000,
    awaitTicketMs: 1_000,
  });
  const restored = !Object.hasOwn(secure, "getPeerCertificate");
  const facts = tlsFactsOf(secure, name);
  secure.destroy();
  return { facts, restored };
}

const CERTS: Array<[string, string, Parameters<typeof makeSelfSigned>[1]]> = [
  ["wildcard SAN", "CN=mail.example.test", [{ type: "dns", value: "*.example.test" }]],
  ["CN only, no SAN", "CN=mail.example.test", []],
  ["SAN without the CN's name", "CN=cn-only.example.test", [{ type: "dns", value: "san.example.test" }]],
  [
    "IP and DNS SANs",
    "O=Scout, CN=localhost",
    [
      { type: "dns", value: "localhost" },
      { type: "ip", value: "127.0.0.1" },
    ],
  ],
];
const NAMES = [
  "mail.example.test",
  "MAIL.Example.Test",
  "a.b.example.test",
  "example.test",
  "cn-only.example.test",
  "san.example.test",
  "localhost",
  "127.0.0.1",
  "other.invalid",
];

describe("tlsFactsOf hostname check", () => {
  const ports = new Map<string, number>();
  beforeAll(async () => {
    for (const [label, subject, names] of CERTS)
      ports.set(label, await tlsServer(await makeSelfSigned(subject, names)));
  });

  it.each(CERTS.map(([label]) => label))("answers as Node's own path does: %s", async (label) => {
    const port = ports.get(label) as number;
    for (const name of NAMES) {
      const theirs = await nodeIdentityError(port, name);
      // Twice: the second answer comes from the per-certificate cache.
      for (let round = 0; round < 2; round++) {
        const { facts, restored } = await ourFacts(port, name);
        expect(facts.hostnameError, `${label} / ${name} (round ${round})`).toBe(theirs);
        expect(facts.hostnameMatch).toBe(theirs === undefined);
        expect(restored).toBe(true);
      }
    }
  });

  it("keeps each certificate's facts apart", async () => {
    const wildcard = await ourFacts(ports.get("wildcard SAN") as number, "mail.example.test");
    const cnOnly = await ourFacts(ports.get("CN only, no SAN") as number, "mail.example.test");
    expect(wildcard.facts.certificate?.subjectAltNames).toEqual(["DNS:*.example.test"]);
    expect(cnOnly.facts.certificate?.subjectAltNames).toEqual([]);
    expect(wildcard.facts.certificate?.fingerprintSha256).not.toBe(
      cnOnly.facts.certificate?.fingerprintSha256,
    );
  });

  it("keeps the facts of a server that closes right after the handshake", async () => {
    const port = await tlsServer(
      await makeSelfSigned("CN=gone.example.test", [{ type: "dns", value: "gone.example.test" }]),
      true,
    );
    const { facts } = await ourFacts(port, "gone.example.test");
    expect(facts).toMatchObject({ protocol: "TLSv1.3", hostnameMatch: true });
    expect(facts.certificate?.subject).toBe("CN=gone.example.test");
  });

  it("reads a certificate with an empty subject (the SAN names the host, RFC 5280 §4.1.2.6)", async () => {
    const port = await tlsServer(await makeSelfSigned("", [{ type: "dns", value: "nameless.example.test" }]));
    const { facts } = await ourFacts(port, "nameless.example.test");
    expect(facts).toMatchObject({ hostnameMatch: true });
    expect(facts.certificate).toMatchObject({ subject: "", issuer: "" });
  });

  it("spares Node's detailed chain conversion when the chain verifies, and still matches", async () => {
    const pki = await makeTestPki();
    const port = await tlsServer(pki.valid);
    const prototype = TLSSocket.prototype as unknown as { getPeerCertificate(detailed?: boolean): unknown };
    const original = prototype.getPeerCertificate;
    let detailedCalls = 0;
    prototype.getPeerCertificate = function (this: TLSSocket, detailed?: boolean) {
      if (detailed) detailedCalls++;
      return original.call(this, detailed);
    };
    try {
      const { facts, restored } = await ourFacts(port, "localhost", createSecureContext({ ca: pki.caPem }));
      expect(facts).toMatchObject({ chainTrusted: true, hostnameMatch: true, checkedName: "localhost" });
      expect(restored).toBe(true);
      expect(detailedCalls).toBe(0);
      // The same handshake without the check's handshake code does ask for it (so this test can fail).
      const plain = tlsConnect({ host: "127.0.0.1", port, ca: pki.caPem, servername: "localhost" });
      await new Promise((resolve, reject) => plain.once("secureConnect", resolve).once("error", reject));
      plain.destroy();
      expect(detailedCalls).toBe(1);
    } finally {
      prototype.getPeerCertificate = original;
    }
  });
});
