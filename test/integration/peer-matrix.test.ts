import { rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Secret } from "../../core/basics/secret.ts";
import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import { type CheckOptions, checkEndpoint } from "../../core/checks/run-check.ts";
import { readPasswordFile } from "../../local/cli/read-password.ts";
import { PEERS_SKIP_MESSAGE, type PeerFacts, type PeerServer, peerServers } from "../support/peer-servers.ts";
import { HeldPop3Session } from "../support/pop3-session.ts";

// The peer matrix: real Exim, Sendmail, Cyrus, GNU Mailutils and Courier from Debian's
// packages (scripts/peer-servers.sh), healthy and with one fault per row. Each row names the
// status and reason the check must end with; servers differ in how they say the same thing.
const peers: PeerFacts | undefined = peerServers();
if (!peers) console.warn(PEERS_SKIP_MESSAGE);

/** What a row expects: status and reason, and words of the server's own the check must pass on. */
interface Expected {
  readonly status: CheckResult["status"];
  /** A string, not Reason: some rows name reasons the checks are still learning. */
  readonly reason: string;
  readonly serverText?: RegExp;
}

interface FaultRow {
  readonly name: string;
  readonly url: string;
  readonly login?: "right" | "wrong";
  readonly withoutCa?: boolean;
  readonly expected: Expected;
}

const CRITICAL = (reason: string, serverText?: RegExp): Expected => ({
  status: "CRITICAL",
  reason,
  ...(serverText ? { serverText } : {}),
});

function check(facts: PeerFacts, url: string, options: CheckOptions & { withoutCa?: boolean } = {}) {
  const { withoutCa, ...rest } = options;
  return checkEndpoint(parseEndpointUrl(url), { ...(withoutCa ? {} : { caFile: facts.caFile }), ...rest });
}

function credentials(facts: PeerFacts, which: "right" | "wrong") {
  const password = which === "right" ? readPasswordFile(facts.passwordFile) : new Secret("not-the-password");
  return { user: facts.user, password };
}

/**
 * GNU Mailutils' imap4d offers SCRAM through GNU SASL even when users log in through PAM, where
 * it cannot check SCRAM: an operator pins PLAIN for it (login.mechanism), and so do these rows.
 * The unpinned login is a row of its own below.
 */
function pinned(name: string, url: string): { mechanism?: "PLAIN" } {
  return name === "mailutils" && url.startsWith("imap") ? { mechanism: "PLAIN" } : {};
}

/** The row's expectation, with the actual result in the failure message when it differs. */
function expectRow(result: CheckResult, expected: Expected): void {
  const actual = `${result.status} ${result.reason}: ${result.message} [server: ${result.serverReply ?? "-"}]`;
  expect({ status: result.status, reason: result.reason }, actual).toEqual({
    status: expected.status,
    reason: expected.reason,
  });
  if (expected.serverText) {
    expect(`${result.message}\n${result.serverReply ?? ""}`, actual).toMatch(expected.serverText);
  }
}

/** The rows every server gets: untrusted chain, wrong certificate, no STARTTLS, bad password, TLS first. */
function commonRows(server: PeerServer): FaultRow[] {
  const first = server.healthy[0] as string;
  const rows: FaultRow[] = [
    { name: "without the demo CA", url: first, withoutCa: true, expected: CRITICAL("cert-untrusted") },
    {
      name: "serving a certificate for another name",
      url: server.wrongCert,
      expected: CRITICAL("cert-hostname-mismatch"),
    },
    { name: "without STARTTLS", url: server.noStartTls, expected: CRITICAL("no-starttls") },
  ];
  if (server.wrongCertPop3)
    rows.push({
      name: "POP3 with another name's certificate",
      url: server.wrongCertPop3,
      expected: CRITICAL("cert-hostname-mismatch"),
    });
  if (server.noStls)
    rows.push({ name: "POP3 without STLS", url: server.noStls, expected: CRITICAL("no-starttls") });
  if (server.login) {
    rows.push({ name: "a wrong password", url: first, login: "wrong", expected: CRITICAL("auth-failed") });
    const pop3 = server.healthy.find((url) => url.startsWith("pop3://"));
    if (pop3)
      rows.push({
        name: "a wrong POP3 password",
        url: pop3,
        login: "wrong",
        expected: CRITICAL("auth-failed"),
      });
  }
  if (server.tlsRequired)
    rows.push({
      name: "login before TLS where TLS is required",
      url: server.tlsRequired,
      login: "right",
      expected: CRITICAL("auth-unavailable"),
    });
  if (server.tlsRequiredPop3)
    rows.push({
      name: "POP3 login before STLS where TLS is required",
      url: server.tlsRequiredPop3,
      login: "right",
      expected: CRITICAL("auth-unavailable"),
    });
  return rows;
}

const SERVERS = ["exim", "sendmail", "cyrus", "mailutils", "courier"] as const;

describe.skipIf(!peers)("peer matrix", () => {
  const facts = peers as PeerFacts;

  describe.each(SERVERS)("%s", (name) => {
    const server = facts?.servers[name];
    if (!server) return;

    describe.concurrent(`${server.product}: healthy`, () => {
      it.each(server.healthy)("%s is OK", async (url) => {
        const result = await check(
          facts,
          url,
          server.login ? { credentials: { ...credentials(facts, "right"), ...pinned(name, url) } } : {},
        );
        expectRow(result, { status: "OK", reason: "ok" });
        expect(result.login).toBe(server.login ? "ok" : "not-asked");
        expect(result.tls).toMatchObject({ chainTrusted: true, hostnameMatch: true });
      });
    });

    describe.concurrent(`${server.product}: faults`, () => {
      it.each(commonRows(server).map((row) => [row.name, row] as const))("%s", async (_name, row) => {
        const result = await check(facts, row.url, {
          withoutCa: row.withoutCa === true,
          ...(row.login ? { credentials: credentials(facts, row.login) } : {}),
        });
        expectRow(result, row.expected);
      });
    });
  });

  it("Mailutils IMAP over PAM offers SCRAM it cannot check: unpinned, auth-failed with the hint to pin", async () => {
    const url = facts.servers.mailutils.healthy.find((u) => u.startsWith("imaps://")) as string;
    const result = await check(facts, url, { credentials: credentials(facts, "right") });
    expectRow(result, { status: "CRITICAL", reason: "auth-failed" });
    expect(result.authMechanism).toBe("SCRAM-SHA-256");
    expect(result.message).toContain("pin another mechanism with login.mechanism or --auth-mech");
  });

  // Switches that change a whole server: one row at a time, each undone in `finally`.
  describe("maintenance and locks", () => {
    it("Exim in maintenance (421 at the greeting) is service-unavailable with its text", async () => {
      const exim = facts.servers.exim;
      writeFileSync(exim.maintenanceFile as string, "");
      try {
        const result = await check(facts, exim.healthy[0] as string);
        expectRow(result, CRITICAL("service-unavailable", /down for maintenance/));
      } finally {
        rmSync(exim.maintenanceFile as string, { force: true });
      }
    });

    const cyrusUrls = facts?.servers.cyrus.healthy ?? [];
    it.each(cyrusUrls)(
      "Cyrus shut down (msg/shutdown): a login on %s is service-unavailable with its text",
      async (url) => {
        const shutdownFile = facts.servers.cyrus.shutdownFile as string;
        writeFileSync(shutdownFile, "Peer matrix: Cyrus is shut down for maintenance\n");
        try {
          const result = await check(facts, url, { credentials: credentials(facts, "right") });
          expectRow(result, CRITICAL("service-unavailable", /Cyrus is shut down for maintenance/));
        } finally {
          rmSync(shutdownFile, { force: true });
        }
      },
    );

    it("Mailutils POP3 with the maildrop locked by another session is mailbox-in-use", async () => {
      const mailutils = facts.servers.mailutils;
      const held = await HeldPop3Session.open({
        host: facts.host,
        port: mailutils.pop3sPort as number,
        caFile: facts.caFile,
        user: facts.user,
        password: readPasswordFile(facts.passwordFile).reveal(),
      });
      try {
        const pop3 = mailutils.healthy.find((url) => url.startsWith("pop3://")) as string;
        const result = await check(facts, pop3, { credentials: credentials(facts, "right") });
        expectRow(result, { status: "WARNING", reason: "mailbox-in-use", serverText: /IN-USE/ });
      } finally {
        await held.close();
      }
    });

    it("after the switches are undone every server is OK again", async () => {
      for (const name of SERVERS) {
        const server = facts.servers[name];
        const url = server.healthy[0] as string;
        const result = await check(
          facts,
          url,
          server.login ? { credentials: { ...credentials(facts, "right"), ...pinned(name, url) } } : {},
        );
        expectRow(result, { status: "OK", reason: "ok" });
      }
    });
  });
});
