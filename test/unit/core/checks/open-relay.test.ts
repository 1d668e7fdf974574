import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { DEFAULT_RELAY_TEST, relayTestFrom } from "../../../../core/checks/open-relay.ts";
import { checkEndpoint } from "../../../../core/checks/run-check.ts";
import { LOCAL_NAMES, makeSelfSigned } from "../../../support/certs.ts";
import type { TlsIdentity } from "../../../support/line-server.ts";
import { type RelayPeer, type RelayPolicy, startRelayPeer } from "../../../support/relay-peer.ts";

const peers: RelayPeer[] = [];
let identity: TlsIdentity;
beforeAll(async () => {
  identity = await makeSelfSigned("CN=localhost", LOCAL_NAMES, 90);
});
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.close()));
});

async function checkRelay(policy: RelayPolicy) {
  const peer = await startRelayPeer({ policy, identity });
  peers.push(peer);
  const result = await checkEndpoint(parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`), {
    relayTest: DEFAULT_RELAY_TEST,
    thresholds: { verifyTls: false },
    overallTimeoutMs: 10_000,
  });
  return { result, commands: peer.commands };
}

const ENVELOPE_AFTER_TLS = ["MAIL FROM:<relay-test@example.net> tls", "RCPT TO:<relay-test@example.com> tls"];

describe("the open relay test", () => {
  it("a server that refuses relaying with 554 5.7.1 is fine: openRelay refused, status OK", async () => {
    const { result, commands } = await checkRelay("refuse-relay");
    expect(result).toMatchObject({ status: "OK", reason: "ok", openRelay: "refused", quit: "ok" });
    expect(result.relayTest).toEqual({
      ...DEFAULT_RELAY_TEST,
      outcome: "refused",
      reply: "554 5.7.1 <relay-test@example.com>: Relay access denied",
    });
    expect(commands).toEqual(ENVELOPE_AFTER_TLS);
    expect(result.timings.relayTest).toBeGreaterThanOrEqual(0);
  });

  it("an open relay is CRITICAL open-relay with the server's reply, and DATA is never sent", async () => {
    const { result, commands } = await checkRelay("open-relay");
    expect(result).toMatchObject({
      status: "CRITICAL",
      reason: "open-relay",
      openRelay: "accepted",
      quit: "ok",
    });
    expect(result.message).toMatch(
      /^the server accepted MAIL FROM:<relay-test@example\.net> RCPT TO:<relay-test@example\.com> without login: it relays for anyone \("250 /,
    );
    // The server recorded both envelope commands and no DATA; RSET and QUIT followed, answered.
    expect(commands).toEqual(ENVELOPE_AFTER_TLS);
    expect(commands).not.toContain("DATA");
  });

  it("a greylisting 451 is a WARNING relay-test-inconclusive, not a pass", async () => {
    const { result, commands } = await checkRelay("greylist");
    expect(result).toMatchObject({
      status: "WARNING",
      reason: "relay-test-inconclusive",
      openRelay: "deferred",
    });
    expect(result.message).toContain("451 4.7.1 Greylisted");
    expect(result.message).toContain("deferred RCPT TO:<relay-test@example.com>");
    expect(commands).toEqual(ENVELOPE_AFTER_TLS);
  });

  it("a refused MAIL FROM is a WARNING relay-test-inconclusive, and RCPT TO is never asked", async () => {
    const { result, commands } = await checkRelay("refuse-sender");
    expect(result).toMatchObject({
      status: "WARNING",
      reason: "relay-test-inconclusive",
      openRelay: "sender-refused",
    });
    expect(result.message).toContain("refused MAIL FROM:<relay-test@example.net>");
    expect(result.relayTest?.reply).toBe("553 5.7.1 Sender address rejected: not owned by any user here");
    expect(commands).toEqual(["MAIL FROM:<relay-test@example.net> tls"]);
  });

  it("asks before the login, as a client nobody vouches for, and the login still follows", async () => {
    const peer = await startRelayPeer({
      policy: "refuse-relay",
      identity,
      login: { user: "scout", password: "pw" },
    });
    peers.push(peer);
    const result = await checkEndpoint(parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`), {
      relayTest: DEFAULT_RELAY_TEST,
      credentials: { user: "scout", password: new Secret("pw") },
      thresholds: { verifyTls: false },
      overallTimeoutMs: 10_000,
    });
    expect(result).toMatchObject({ status: "OK", openRelay: "refused", login: "ok", authMechanism: "PLAIN" });
    // No " as scout": the session had not logged in when the envelope was asked.
    expect(peer.commands).toEqual(ENVELOPE_AFTER_TLS);
  });

  it("runs on a plain session when STARTTLS is off, with the addresses given", async () => {
    const peer = await startRelayPeer({ policy: "refuse-relay", identity });
    peers.push(peer);
    const relayTest = relayTestFrom({
      sender: "a@outside.example.org",
      recipient: "b@elsewhere.example.org",
    });
    const result = await checkEndpoint(parseEndpointUrl(`smtp://127.0.0.1:${peer.port}?starttls=off`), {
      relayTest,
      overallTimeoutMs: 10_000,
    });
    expect(result).toMatchObject({ status: "OK", openRelay: "refused" });
    expect(peer.commands).toEqual([
      "MAIL FROM:<a@outside.example.org> plain",
      "RCPT TO:<b@elsewhere.example.org> plain",
    ]);
  });

  it("without the option the check sends no envelope at all", async () => {
    const peer = await startRelayPeer({ policy: "open-relay", identity });
    peers.push(peer);
    const result = await checkEndpoint(parseEndpointUrl(`smtp://127.0.0.1:${peer.port}`), {
      thresholds: { verifyTls: false },
      overallTimeoutMs: 10_000,
    });
    expect(result).toMatchObject({ status: "OK", reason: "ok" });
    expect(result).not.toHaveProperty("openRelay");
    expect(peer.commands).toEqual([]);
  });

  it("is refused for a protocol other than SMTP", async () => {
    const result = await checkEndpoint(parseEndpointUrl("imap://127.0.0.1:1"), {
      relayTest: DEFAULT_RELAY_TEST,
    });
    expect(result).toMatchObject({ status: "UNKNOWN", reason: "config-error" });
    expect(result.message).toBe("the open relay test is SMTP only, not imap://");
  });

  it.each([
    ["sender", { sender: "no-at-sign" }],
    ["recipient", { recipient: "x@example.com>\r\nDATA" }],
    ["recipient", { recipient: "x y@example.com" }],
  ])("refuses a %s that is not a plain address", (name, given) => {
    expect(() => relayTestFrom(given)).toThrow(`relay test ${name} "`);
    expect(() => relayTestFrom(given)).toThrow("must be a plain mail address like probe@example.com");
  });
});
