import * as packet from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import { DnsQueryError } from "../../../../core/dns/dns-errors.ts";
import { addresses, isEmptyAnswer, txtStrings } from "../../../../core/dns/dns-records.ts";
import { createDnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { type DnsPeer, startDnsPeer, startSilentDnsPeer } from "../../../support/dns-peer.ts";

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;
const RCODE_NOTIMP = 4;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function peer(handler: Parameters<typeof startDnsPeer>[0]): Promise<DnsPeer> {
  const started = await startDnsPeer(handler);
  closers.push(started.close);
  return started;
}

const resolverFor = (port: number, retries = 1, timeoutMs = 1500) =>
  createDnsResolver({ server: { host: "127.0.0.1", port }, timeoutMs, retries });

async function failureOf(promise: Promise<unknown>): Promise<DnsQueryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DnsQueryError);
  return error as DnsQueryError;
}

describe("DNS resolver over the wire (RFC 1035 §4.2)", () => {
  it("answers over UDP and reads the AD bit (RFC 4035 §3.2.3)", async () => {
    const server = await peer(({ name }) => ({
      flags: packet.AUTHENTIC_DATA,
      answers: [{ type: "A", name, ttl: 60, data: "192.0.2.7" }],
    }));
    const answer = await resolverFor(server.port).query("mx.example.test", "A");
    expect(answer.rcode).toBe("NOERROR");
    expect(addresses(answer)).toEqual(["192.0.2.7"]);
    expect(answer.authenticated).toBe(true);
    expect(answer.transport).toBe("udp");
  });

  it("reads AD=0 as not validated", async () => {
    const server = await peer(({ name }) => ({ answers: [{ type: "A", name, data: "192.0.2.7" }] }));
    expect((await resolverFor(server.port).query("mx.example.test", "A")).authenticated).toBe(false);
  });

  it("asks again over TCP when the UDP reply is truncated (TC=1, RFC 7766 §5)", async () => {
    const server = await peer(({ name, transport }) =>
      transport === "udp"
        ? { flags: packet.TRUNCATED_RESPONSE }
        : { answers: [{ type: "TXT", name, data: ["v=spf1 ", "-all"] }] },
    );
    const answer = await resolverFor(server.port).query("example.test", "TXT");
    expect(answer.transport).toBe("tcp");
    expect(txtStrings(answer)).toEqual(["v=spf1 -all"]);
    expect(server.queries.map((q) => q.transport)).toEqual(["udp", "tcp"]);
  });

  it("NXDOMAIN and NODATA are answers, told apart (RFC 2308 §2.1, §2.2)", async () => {
    const server = await peer(({ name }) =>
      name === "gone.example.test" ? { flags: RCODE_NXDOMAIN } : { answers: [] },
    );
    const resolver = resolverFor(server.port);
    const nxdomain = await resolver.query("gone.example.test", "MX");
    const nodata = await resolver.query("here.example.test", "MX");
    expect([nxdomain.rcode, isEmptyAnswer(nxdomain)]).toEqual(["NXDOMAIN", true]);
    expect([nodata.rcode, isEmptyAnswer(nodata)]).toEqual(["NOERROR", true]);
  });

  it.each([
    [RCODE_SERVFAIL, "servfail", "SERVFAIL"],
    [RCODE_REFUSED, "refused", "REFUSED"],
    [RCODE_NOTIMP, "rcode", "NOTIMP"],
  ])("RCODE %i fails as %s, naming the query", async (rcode, failure, text) => {
    const server = await peer(() => ({ flags: rcode }));
    const error = await failureOf(resolverFor(server.port).query("example.test", "TXT"));
    expect(error.failure).toBe(failure);
    expect(error.message).toBe(
      `DNS TXT example.test @127.0.0.1:${server.port}: ${error.message.split(": ").slice(1).join(": ")}`,
    );
    expect(error.message).toContain(text);
    expect(error.question).toEqual({ name: "example.test", type: "TXT", server: `127.0.0.1:${server.port}` });
  });

  it("asks again without EDNS when the server answers FORMERR (RFC 6891 §7)", async () => {
    const RCODE_FORMERR = 1;
    const server = await peer(({ name, edns }) =>
      edns ? { flags: RCODE_FORMERR } : { answers: [{ type: "A", name, data: "192.0.2.8" }] },
    );
    const answer = await resolverFor(server.port, 0).query("old.example.test", "A");
    expect(addresses(answer)).toEqual(["192.0.2.8"]);
    expect(server.queries.map((q) => q.edns)).toEqual([true, false]);
  });

  it("FORMERR without EDNS too fails as rcode", async () => {
    const server = await peer(() => ({ flags: 1 }));
    const error = await failureOf(resolverFor(server.port, 0).query("example.test", "A"));
    expect([error.failure, server.queries.length]).toEqual(["rcode", 2]);
    expect(error.message).toContain("error RCODE FORMERR");
  });

  it("a server that never answers: a timeout after every try, naming the query", async () => {
    const silent = await startSilentDnsPeer();
    closers.push(silent.close);
    const error = await failureOf(resolverFor(silent.port, 2, 300).query("example.test", "MX"));
    expect(error.failure).toBe("timeout");
    expect(error.message).toBe(
      `DNS MX example.test @127.0.0.1:${silent.port}: no reply to 3 UDP tries of 300 ms each`,
    );
    expect(silent.received()).toBe(3);
  });

  it("ignores a reply carrying another ID (RFC 5452 §4.3) and times out", async () => {
    const server = await peer(({ id }) =>
      packet.encode({ id: (id + 1) % 65536, type: "response", answers: [] }),
    );
    const error = await failureOf(resolverFor(server.port, 0, 300).query("example.test", "A"));
    expect(error.failure).toBe("timeout");
  });

  it("a reply to another question is malformed", async () => {
    const server = await peer(({ id }) =>
      packet.encode({ id, type: "response", questions: [{ type: "A", name: "other.test" }], answers: [] }),
    );
    const error = await failureOf(resolverFor(server.port).query("example.test", "A"));
    expect(error.failure).toBe("malformed");
    expect(error.message).toContain("answers another question (A other.test)");
  });

  it("a truncated reply whose TCP retry gets no reply times out, saying it was truncated", async () => {
    const server = await peer(({ transport }) =>
      transport === "udp" ? { flags: packet.TRUNCATED_RESPONSE } : undefined,
    );
    // The TCP side answers nothing: the try times out and says it was after truncation.
    const error = await failureOf(resolverFor(server.port, 0, 300).query("example.test", "TXT"));
    expect(error.failure).toBe("timeout");
    expect(error.message).toContain("truncated over UDP, and no TCP reply within 300 ms");
  });
});
