import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { newProbeKey } from "../../core/wire/probe-key.ts";
import { createProbeToken } from "../../core/wire/probe-token.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { demoFetchConfig, FETCH_INBOUND, FETCH_USER } from "../support/demo-fetch-config.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

/*
 * Fetch mode on one machine, with real parts only: serve's cycle sends probes through the demo
 * host's Postfix to the probe-fetch mailbox, which has no ~/.forward, and finds them in Dovecot
 * over IMAP (IDLE) and POP3. Dovecot's LMTP delivers that mailbox, and the demo host's Sieve
 * rule files probes of targets whose id starts with "junk-" (their X-Scout-Target header) into
 * the Junk folder, which Dovecot marks \Junk (RFC 6154). Two targets log in with OAuth tokens
 * from the demo host's token endpoint, which Dovecot's oauth2 passdb checks there. Probes are
 * DKIM-signed with the key the demo host publishes in its DNS (NSD), beside SPF and DMARC
 * records, and Postfix's two milters stamp their verdicts: OpenDKIM DKIM's, rspamd SPF, DKIM,
 * DMARC and its spam score. Mail that is not a validly signed probe of this monitor is put in
 * the mailbox beforehand and must still be there afterwards.
 */
const DEADLINE_S = 30;
const IDLE_TEST_POLL_SECONDS = 15;

let demo: DemoHost;
let dir: string;
let monitor: LocalMonitor;
let passwordFile: string | undefined;
const lines: string[] = [];

function imapClient(): ImapFlow {
  const client = new ImapFlow({
    host: demo.host,
    port: 993,
    secure: true,
    servername: "mail.scout.test",
    tls: { ca: readFileSync(demo.caFile) },
    auth: { user: FETCH_USER, pass: readFileSync(passwordFile as string, "utf8").trim() },
    logger: false,
  });
  client.on("error", () => {});
  return client;
}

/** Runs `work` with a logged-in client of the probe-fetch mailbox. */
async function withMailbox<T>(work: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = imapClient();
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout();
  }
}

/** UIDs of messages in `folder` whose X-Scout-Probe header contains `text`. */
async function probeUids(folder: string, text: string): Promise<number[]> {
  return withMailbox(async (client) => {
    await client.mailboxOpen(folder);
    return (await client.search({ header: { "X-Scout-Probe": text } }, { uid: true })) || [];
  });
}

const foreignKey = { id: "k1", key: newProbeKey() };
const SENT_MS = Date.now();
/** Not ours: a token signed with another key, and one that is not a token at all. */
const strangers = [
  createProbeToken({ probeId: "strangerstranger01", targetId: "imap-inbox", sentAtMs: SENT_MS }, foreignKey),
  "not-a-token-stranger",
];

function message(token: string): string {
  return [
    "From: someone@example.net",
    `To: ${FETCH_USER}@scout.test`,
    "Subject: looks like a probe",
    "Auto-Submitted: auto-generated",
    `X-Scout-Probe: ${token}`,
    "",
    "not from this monitor",
    "",
  ].join("\r\n");
}

beforeAll(async () => {
  demo = demoHost();
  // Checked before any login: a login the host refuses slows every login from 127.0.0.1 for a while.
  const users = readFileSync(join(demo.dir, "dovecot-users"), "utf8");
  const dovecot = readFileSync(join(demo.dir, "dovecot.conf"), "utf8");
  if (!users.includes(`${FETCH_USER}:`) || !dovecot.includes("special_use = \\Junk")) {
    throw new Error(
      `the demo host has no ${FETCH_USER} mailbox or no \\Junk folder yet; run: bash scripts/demo-mailhost.sh up`,
    );
  }
  passwordFile = join(demo.dir, `${FETCH_USER}.password`);
  dir = mkdtempSync(join(tmpdir(), "scout-fetch-"));
  await withMailbox(async (client) => {
    for (const token of strangers) await client.append("INBOX", message(token));
  });

  const fetch = {
    user: FETCH_USER,
    passwordFile,
    caFile: demo.caFile,
    pollSeconds: 1,
    waitSeconds: 20,
  };
  // No password: the token endpoint's client-credentials token, introspected by Dovecot.
  const oauthFetch = { ...fetch, passwordFile: undefined, oauth: demo.fetchOAuth };
  const config = demoFetchConfig(demo, dir, {
    source: "fetch-round-trip-test",
    dkim: true,
    deadlineSeconds: DEADLINE_S,
    targets: [
      {
        id: "imap-inbox",
        // A poll far apart: found well before it, the probe was announced by IDLE.
        probe: {
          to: `${FETCH_USER}@scout.test`,
          fetch: { ...fetch, url: "imap://127.0.0.1:143", pollSeconds: IDLE_TEST_POLL_SECONDS },
        },
      },
      {
        // The demo host's Sieve rule files probes of "junk-*" targets into Junk.
        id: "junk-imap",
        probe: { to: `${FETCH_USER}@scout.test`, fetch: { url: "imaps://127.0.0.1:993", ...fetch } },
      },
      {
        id: "oauth-imap",
        probe: {
          to: `${FETCH_USER}+oauth@scout.test`,
          fetch: { ...oauthFetch, url: "imaps://127.0.0.1:993" },
          receiverAuthservIds: [demo.authservId],
        },
      },
      {
        id: "oauth-pop3",
        probe: {
          to: `${FETCH_USER}+oauth@scout.test`,
          fetch: { ...oauthFetch, url: "pop3s://127.0.0.1:995" },
          // Not the demo host: its Authentication-Results must not count.
          receiverAuthservIds: ["mx.example.net"],
        },
      },
      {
        id: "pop3",
        probe: { to: `${FETCH_USER}+pop@scout.test`, fetch: { url: "pop3s://127.0.0.1:995", ...fetch } },
      },
      {
        id: "misnamed-junk",
        probe: {
          to: `${FETCH_USER}+kept@scout.test`,
          fetch: { ...fetch, url: "imaps://127.0.0.1:993", junkFolder: "Spam-typo" },
        },
      },
      {
        // Nothing listens on port 1. (A wrong password would do too, but Dovecot then slows
        // every login from 127.0.0.1 for a while, other tests' as well.)
        id: "unreachable",
        probe: { to: `${FETCH_USER}+kept@scout.test`, fetch: { ...fetch, url: "imap://127.0.0.1:1" } },
      },
    ],
  });
  monitor = await LocalMonitor.open(
    config,
    consoleLogger((line) => lines.push(line)),
  );
  await monitor.start({ schedule: false });
  await monitor.runCycle();
  if (process.env.SCOUT_TEST_SHOW_LOG) console.log(lines.join("\n"));
}, 180_000);

afterAll(async () => {
  await monitor?.stop();
  if (passwordFile === undefined) return;
  // Whatever this run left in the mailbox (the strangers, the unread probe) goes, so the next run starts clean.
  await withMailbox(async (client) => {
    for (const folder of ["INBOX", "Junk"]) {
      await client.mailboxOpen(folder);
      const uids = (await client.search({ header: { "X-Scout-Probe": "" } }, { uid: true })) || [];
      if (uids.length > 0) await client.messageDelete(uids, { uid: true });
    }
  });
}, 60_000);

async function probeOf(targetId: string): Promise<ProbeRecord> {
  const [probe] = await monitor.store.recent(targetId, 0, 1);
  if (!probe) throw new Error(`no probe for ${targetId}; log:\n${lines.join("\n")}`);
  return probe;
}

describe("fetch mode through the real Postfix and Dovecot", () => {
  it("IMAP with IDLE: the probe is found in the inbox, timed, then deleted", async () => {
    const probe = await probeOf("imap-inbox");
    expect(probe.state, lines.join("\n")).toBe("returned");
    expect(probe.folder).toBe("inbox");
    expect(probe.rttMs).toBeGreaterThan(0);
    expect(probe.rttMs).toBeLessThan((IDLE_TEST_POLL_SECONDS * 1000) / 2);
    // INTERNALDATE, by the same clock here: shown as the remote arrival, at second resolution.
    expect(Math.abs((probe.remoteArrivedAtMs ?? 0) - probe.sentAtMs)).toBeLessThan(5_000);
    expect(probe.hops?.some((hop) => hop.by?.includes("mail.scout.test"))).toBe(true);
    expect(await probeUids("INBOX", probe.probeId)).toEqual([]);
  });

  it("the receiver's verdicts on the signed probe: spf, dkim and dmarc pass from the demo host's authserv-id, rspamd's score says ham", async () => {
    const probe = await probeOf("imap-inbox");
    expect(probe.verdicts, lines.join("\n")).toMatchObject({
      authservId: demo.authservId,
      spf: { result: "pass", domain: FETCH_INBOUND },
      dkim: { result: "pass", domain: FETCH_INBOUND },
      dmarc: { result: "pass", domain: FETCH_INBOUND },
      folder: { name: "INBOX", junk: false },
      ignoredAuthResults: 0,
      problems: [],
    });
    // rspamd alone: its X-Spam-Status is its own, not a SpamAssassin verdict.
    expect(probe.verdicts?.spam).toEqual([
      { filter: "rspamd", verdict: "ham", score: expect.any(Number), threshold: 15, detail: "no action" },
    ]);
    const [rspamd] = probe.verdicts?.spam ?? [];
    // Well below rspamd's 6 points for "add header": a signed, aligned probe is nowhere near spam.
    expect(rspamd?.score).toBeLessThan(4);
  });

  it("receiverAuthservIds decide whose Authentication-Results count", async () => {
    expect((await probeOf("oauth-imap")).verdicts).toMatchObject({
      authservId: demo.authservId,
      dkim: { result: "pass", domain: FETCH_INBOUND },
      ignoredAuthResults: 0,
    });
    const ignored = (await probeOf("oauth-pop3")).verdicts;
    expect(ignored?.dkim).toBeUndefined();
    expect(ignored?.spf).toBeUndefined();
    // OpenDKIM's field and rspamd's, both named mail.scout.test.
    expect(ignored?.ignoredAuthResults).toBe(2);
    // Spam fields carry no authserv-id: they count whoever is trusted.
    expect(ignored?.spam.map((verdict) => verdict.filter)).toEqual(["rspamd"]);
  });

  it.each(["oauth-imap", "oauth-pop3"])(
    "%s: logs in with a client-credentials token that Dovecot introspects, finds and deletes the probe",
    async (targetId) => {
      const probe = await probeOf(targetId);
      expect(probe.state, lines.join("\n")).toBe("returned");
      expect(probe.folder).toBe("inbox");
      expect(await probeUids("INBOX", probe.probeId)).toEqual([]);
    },
  );

  it("a probe the Sieve rule filed into the \\Junk folder is found there and recorded as junk", async () => {
    const probe = await probeOf("junk-imap");
    expect(probe.state, lines.join("\n")).toBe("returned");
    expect(probe.folder).toBe("junk");
    expect(probe.verdicts?.folder).toEqual({ name: "Junk", junk: true });
    expect(await probeUids("Junk", probe.probeId)).toEqual([]);
  });

  it("POP3: the probe is found in the maildrop and deleted", async () => {
    const probe = await probeOf("pop3");
    expect(probe.state, lines.join("\n")).toBe("returned");
    expect(probe.folder).toBe("inbox");
    expect(await probeUids("INBOX", probe.probeId)).toEqual([]);
  });

  it("never deletes mail that is not a validly signed probe of this monitor", async () => {
    for (const token of strangers) expect(await probeUids("INBOX", token)).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/mailbox message left alone.*token bad-signature/);
  });

  it("a junk folder the mailbox does not have is named at login, with the folders it has", async () => {
    expect(lines.join("\n")).toMatch(
      /cannot open the probe mailbox.*misnamed-junk.*list: junkFolder \\"Spam-typo\\" is not a folder of this mailbox \(it has: INBOX, Junk\)/,
    );
  });

  it("a mailbox that cannot be reached is a named cycle error; the probe is sent and stays in the mailbox for later", async () => {
    const probe = await probeOf("unreachable");
    expect(probe.state).toBe("sent");
    expect(lines.join("\n")).toMatch(/cannot open the probe mailbox.*unreachable.*connect/);
    // Another target's session saw it and left it alone: it names another target.
    expect(await probeUids("INBOX", probe.probeId)).toHaveLength(1);
  });
});
