import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAT_INTERVAL_MS } from "../../../../core/basics/file-backed-value.ts";
import { Secret } from "../../../../core/basics/secret.ts";
import {
  type MxResolver,
  mxHostsFor,
  SendError,
  SmtpSender,
} from "../../../../local/adapters/smtp-sender.ts";
import {
  LOCAL_NAMES,
  makeSelfSigned,
  makeTestPki,
  type TestCert,
  type TestPki,
} from "../../../support/certs.ts";
import { closedPort } from "../../../support/line-server.ts";

interface Received {
  from: string;
  to: string[];
  raw: Buffer;
  secure: boolean;
  user: unknown;
  /** smtp-server's id of the connection (session) that carried the message. */
  connection: string;
}

/** A real smtp-server peer: STARTTLS, AUTH, and scripted refusals by recipient local part. */
async function startPeer(
  pki: TestPki,
  options: { hideStartTls?: boolean; host?: string; identity?: TestCert } = {},
) {
  const received: Received[] = [];
  const server = new SMTPServer({
    key: (options.identity ?? pki.valid).key,
    cert: (options.identity ?? pki.valid).cert,
    hideSTARTTLS: options.hideStartTls ?? false,
    hideENHANCEDSTATUSCODES: false,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "scout" && auth.password === "s3cret-pw")
        return callback(null, { user: "scout" });
      callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("unknown@")) {
        return callback(
          Object.assign(new Error(`<${address.address}>: Recipient address rejected`), { responseCode: 550 }),
        );
      }
      if (address.address.startsWith("greylisted@")) {
        return callback(Object.assign(new Error("Greylisted, try again later"), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        if (to.some((address) => address.startsWith("full@"))) {
          return callback(Object.assign(new Error("Mailbox full"), { responseCode: 452 }));
        }
        received.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to,
          raw: Buffer.concat(chunks),
          secure: session.secure,
          user: session.user,
          connection: session.id,
        });
        callback(null, "Ok: queued as TEST1");
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    /** Ends every open connection, as a relay does with idle clients. */
    dropConnections: () => {
      for (const connection of (server as unknown as { connections: Set<{ close(): void }> }).connections)
        connection.close();
    },
    /** Serves another certificate from the next handshake on. */
    setIdentity: (identity: TestCert) =>
      server.updateSecureContext({ key: identity.key, cert: identity.cert }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const raw = Buffer.from(
  "From: probe@scout.example.net\r\nTo: probe@mx1.example.com\r\nSubject: x\r\n\r\nbody\r\n.leading dot\r\n",
);
const message = (to = "probe@mx1.example.com") => ({
  envelope: { from: "bounces+AbCdEfGh_-12345678@scout.example.net", to: [to] },
  raw,
});

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SendError);
  return error as SendError;
}

let pki: TestPki;
let peer: Awaited<ReturnType<typeof startPeer>>;
let dir: string;
let caFile: string;
beforeAll(async () => {
  pki = await makeTestPki();
  peer = await startPeer(pki);
  dir = await mkdtemp(join(tmpdir(), "scout-sender-"));
  caFile = join(dir, "ca.pem");
  await writeFile(caFile, pki.caPem);
});
afterAll(async () => {
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

const relayed = (extra: ConstructorParameters<typeof SmtpSender>[0] = {}) =>
  new SmtpSender({ relay: { host: "127.0.0.1", port: peer.port }, caFile, name: "scout.test", ...extra });

describe("SmtpSender with keepRelayConnection", () => {
  it("sends consecutive messages over one kept connection", async () => {
    const sender = relayed({ keepRelayConnection: true });
    try {
      await sender.send(message());
      await sender.send(message());
      const [first, second] = peer.received.slice(-2);
      expect(second?.connection).toBe(first?.connection);
      expect(second?.secure).toBe(true);
    } finally {
      sender.close();
    }
  });

  it("replaces a kept connection the relay closed, and the message still goes", async () => {
    const sender = relayed({ keepRelayConnection: true });
    try {
      await sender.send(message());
      const before = peer.received.at(-1)?.connection;
      peer.dropConnections();
      const receipt = await sender.send(message());
      expect(receipt.response).toMatch(/^250 /);
      expect(peer.received.at(-1)?.connection).not.toBe(before);
    } finally {
      sender.close();
    }
  });

  it("replaces a kept connection older than keptConnectionMaxAgeMs", async () => {
    const sender = relayed({ keepRelayConnection: true, keptConnectionMaxAgeMs: 0 });
    try {
      await sender.send(message());
      const before = peer.received.at(-1)?.connection;
      // Age 0: every kept connection is too old by the next message, whatever the clock says.
      await sender.send(message());
      expect(peer.received.at(-1)?.connection).not.toBe(before);
    } finally {
      sender.close();
    }
  });

  it.each([
    ["keeps running", false],
    ["restarts with it", true],
  ])(
    "follows a pinned CA file replaced on disk while the relay %s: the next message goes, on a new connection",
    async (_case, restart) => {
      const old = await makeSelfSigned("CN=localhost", LOCAL_NAMES);
      const renewed = await makeSelfSigned("CN=localhost", LOCAL_NAMES);
      const pinned = join(dir, `pinned-${restart}.pem`);
      await writeFile(pinned, old.cert);
      const relay = await startPeer(pki, { identity: old });
      const sender = new SmtpSender({
        relay: { host: "127.0.0.1", port: relay.port },
        caFile: pinned,
        name: "scout.test",
        keepRelayConnection: true,
      });
      try {
        await sender.send(message());
        const before = relay.received.at(-1)?.connection;
        relay.setIdentity(renewed);
        if (restart) relay.dropConnections();
        await writeFile(`${pinned}.new`, renewed.cert);
        await rename(`${pinned}.new`, pinned);
        await sleep(STAT_INTERVAL_MS + 50);
        const receipt = await sender.send(message());
        expect(receipt.response).toMatch(/^250 /);
        expect(relay.received.at(-1)).toMatchObject({ secure: true });
        expect(relay.received.at(-1)?.connection).not.toBe(before);
      } finally {
        sender.close();
        await relay.close();
      }
    },
  );

  it("does not retry a server's refusal on a fresh connection", async () => {
    const sender = relayed({ keepRelayConnection: true });
    try {
      const count = peer.received.length;
      const error = await sendError(sender.send(message("unknown@mx1.example.com")));
      expect(error.responseCode).toBe(550);
      expect(peer.received.length).toBe(count);
    } finally {
      sender.close();
    }
  });
});

describe("SmtpSender through a relay", () => {
  it("sends the raw message over STARTTLS with auth; the receipt has the relay's reply", async () => {
    const sender = relayed({ auth: { user: "scout", password: new Secret("s3cret-pw") } });
    const receipt = await sender.send(message());
    expect(receipt.response).toMatch(/^250 2\.6\.0 Ok: queued as TEST1/);
    const got = peer.received.at(-1);
    expect(got).toMatchObject({
      from: "bounces+AbCdEfGh_-12345678@scout.example.net",
      to: ["probe@mx1.example.com"],
      secure: true,
      user: "scout",
    });
    expect(got?.raw.equals(raw)).toBe(true);
  });

  it("uses opportunistic STARTTLS without auth, and plain SMTP with tls none", async () => {
    await relayed().send(message());
    expect(peer.received.at(-1)?.secure).toBe(true);
    await relayed({ tls: "none" }).send(message());
    expect(peer.received.at(-1)?.secure).toBe(false);
  });

  it("turns a 550 on RCPT into a permanent SendError with the server's reply", async () => {
    const error = await sendError(relayed().send(message("unknown@mx1.example.com")));
    expect(error).toMatchObject({ name: "SendError", responseCode: 550, temporary: false });
    expect(error.response).toMatch(/^550 5\.1\.1 <unknown@mx1\.example\.com>: Recipient address rejected/);
    expect(error.message).toContain("550 5.1.1");
  });

  it.each([
    ["a 451 on RCPT", "greylisted@mx1.example.com", 451],
    ["a 452 after DATA", "full@mx1.example.com", 452],
  ])("turns %s into a temporary SendError", async (_name, to, code) => {
    const error = await sendError(relayed().send(message(to)));
    expect(error).toMatchObject({ responseCode: code, temporary: true });
  });

  it("turns a refused connection into a temporary SendError without a reply code", async () => {
    const sender = new SmtpSender({ relay: { host: "127.0.0.1", port: await closedPort() } });
    const error = await sendError(sender.send(message()));
    expect(error).toMatchObject({ temporary: true, responseCode: undefined, host: "127.0.0.1" });
  });

  it("refuses a certificate it cannot verify", async () => {
    const sender = new SmtpSender({ relay: { host: "127.0.0.1", port: peer.port } });
    const error = await sendError(sender.send(message()));
    expect(error).toMatchObject({ temporary: false, code: "ETLS" });
  });

  it("with require-starttls, does not send to a relay that offers no STARTTLS", async () => {
    const plain = await startPeer(pki, { hideStartTls: true });
    try {
      const sender = new SmtpSender({
        relay: { host: "127.0.0.1", port: plain.port },
        tls: "require-starttls",
      });
      await sendError(sender.send(message()));
      // A password makes opportunistic STARTTLS mandatory too.
      const withAuth = new SmtpSender({
        relay: { host: "127.0.0.1", port: plain.port },
        auth: { user: "scout", password: new Secret("s3cret-pw") },
      });
      await sendError(withAuth.send(message()));
      expect(plain.received).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it("reports a failed login without revealing the password", async () => {
    const sender = relayed({ auth: { user: "scout", password: new Secret("wrong-password-xyz") } });
    const error = await sendError(sender.send(message()));
    expect(error).toMatchObject({ responseCode: 535, temporary: false, code: "EAUTH" });
    expect(inspect(error, { depth: 10 })).not.toContain("wrong-password-xyz");
    expect(inspect(sender, { depth: 10 })).not.toContain("wrong-password-xyz");
    expect(JSON.stringify(error)).not.toContain("wrong-password-xyz");
  });

  it("refuses to be configured to send a password without TLS", () => {
    expect(
      () =>
        new SmtpSender({
          relay: { host: "127.0.0.1", port: 25 },
          tls: "none",
          auth: { user: "u", password: new Secret("p") },
        }),
    ).toThrow(RangeError);
  });
});

describe("SmtpSender to MX hosts", () => {
  // IP literals only: a host name would be looked up in DNS, off this machine.
  it("tries the MX hosts in preference order, moving on when one cannot be reached", async () => {
    const plain = await startPeer(pki, { hideStartTls: true });
    try {
      const sender = new SmtpSender({
        // Nothing listens on ::1 at the peer's port (or there is no IPv6): unreachable either way.
        resolveMx: async () => [
          { exchange: "127.0.0.1", priority: 20 },
          { exchange: "::1", priority: 10 },
        ],
        mxPort: plain.port,
      });
      expect((await sender.send(message())).response).toMatch(/^250 /);
      expect(plain.received).toHaveLength(1);
    } finally {
      await plain.close();
    }
  });

  it("gives up with a temporary SendError when no MX host can be reached", async () => {
    const sender = new SmtpSender({
      resolveMx: async () => [{ exchange: "127.0.0.1", priority: 10 }],
      mxPort: await closedPort(),
    });
    const error = await sendError(sender.send(message()));
    expect(error).toMatchObject({ temporary: true, responseCode: undefined });
  });

  it("does not move on to the next host when one answers with a refusal", async () => {
    const plain = await startPeer(pki, { hideStartTls: true });
    try {
      const sender = new SmtpSender({
        resolveMx: async () => [
          { exchange: "127.0.0.1", priority: 10 },
          { exchange: "::1", priority: 20 },
        ],
        mxPort: plain.port,
      });
      const error = await sendError(sender.send(message("unknown@mx1.example.com")));
      expect(error).toMatchObject({ responseCode: 550, host: "127.0.0.1" });
    } finally {
      await plain.close();
    }
  });
});

describe("mxHostsFor", () => {
  const fake =
    (result: Array<{ exchange: string; priority: number }> | Error): MxResolver =>
    async () => {
      if (result instanceof Error) throw result;
      return result;
    };
  const dnsError = (code: string) => Object.assign(new Error(code), { code });

  it("orders MX hosts by preference, keeps ties in order, drops the root dot and duplicates", async () => {
    const hosts = await mxHostsFor("example.com", {
      resolveMx: fake([
        { exchange: "mx3.example.com.", priority: 30 },
        { exchange: "MX1.example.com", priority: 10 },
        { exchange: "mx2a.example.com", priority: 20 },
        { exchange: "mx2b.example.com", priority: 20 },
        { exchange: "mx1.example.com", priority: 40 },
      ]),
    });
    expect(hosts).toEqual(["mx1.example.com", "mx2a.example.com", "mx2b.example.com", "mx3.example.com"]);
  });

  it("falls back to the domain itself (implicit MX) when there is no MX record", async () => {
    expect(await mxHostsFor("example.com", { resolveMx: fake([]) })).toEqual(["example.com"]);
    expect(await mxHostsFor("example.com", { resolveMx: fake(dnsError("ENODATA")) })).toEqual([
      "example.com",
    ]);
  });

  it.each([
    ["a domain that does not exist", fake(dnsError("ENOTFOUND")), false],
    ["a null MX (RFC 7505)", fake([{ exchange: "", priority: 0 }]), false],
    ["a failing lookup", fake(dnsError("ESERVFAIL")), true],
    ["a lookup that never answers", () => new Promise<never>(() => {}), true],
  ] as const)("refuses %s", async (_name, resolveMx, temporary) => {
    const error = await sendError(mxHostsFor("example.com", { resolveMx, timeoutMs: 50 }));
    expect(error).toMatchObject({ temporary, code: "EMX" });
  });
});
