import { randomInt } from "node:crypto";
import * as packet from "dns-packet";
import { describeError } from "../basics/describe-error.ts";
import { type DnsFailure, DnsQueryError, type DnsQuestion } from "./dns-errors.ts";
import { type DnsServerAddress, exchangeTcp, exchangeUdp, TransportTimeout } from "./dns-transport.ts";

/** The record types the posture checks ask for. */
export type DnsRecordType = "A" | "AAAA" | "MX" | "TXT" | "CNAME" | "TLSA" | "PTR" | "NS";

/** One resource record of an answer section, as dns-packet decodes its data for the type. */
export interface DnsRecord {
  readonly name: string;
  readonly type: string;
  readonly data: unknown;
}

/** A usable answer: NOERROR (with records, or none: NODATA) or NXDOMAIN (RFC 2308 §2.1, §2.2). */
export interface DnsAnswer {
  readonly question: DnsQuestion;
  readonly rcode: "NOERROR" | "NXDOMAIN";
  /** The answer section as sent: a CNAME chain comes before the records it leads to. */
  readonly records: readonly DnsRecord[];
  /** The AD bit (RFC 4035 §3.2.3): the resolver validated the answer with DNSSEC. */
  readonly authenticated: boolean;
  /** "tcp" when the UDP reply was truncated (TC=1) and the query was asked again over TCP. */
  readonly transport: "udp" | "tcp";
}

/** The port the posture checks ask through: one question, one answer or a DnsQueryError. */
export interface DnsResolver {
  /** "host:port" of the resolver, named in every error. */
  readonly server: string;
  query(name: string, type: DnsRecordType): Promise<DnsAnswer>;
}

export interface DnsResolverOptions {
  readonly server: DnsServerAddress;
  /** Deadline of each try, UDP or TCP. */
  readonly timeoutMs: number;
  /** UDP tries after the first when one gets no reply. */
  readonly retries: number;
}

/** The EDNS buffer size of DNS Flag Day 2020: no IP fragmentation; larger answers come over TCP. */
const EDNS_UDP_SIZE = 1232;

/** RFC 1035 §4.1.1 and RFC 6895 §2.3: the low four bits of the header's flags. */
const RCODES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};

const ERROR_RCODES: Record<string, { failure: DnsFailure; text: string }> = {
  SERVFAIL: { failure: "servfail", text: "SERVFAIL (the server could not answer; often a DNSSEC failure)" },
  REFUSED: { failure: "refused", text: "REFUSED (the server will not answer this query)" },
};

export const formatServer = ({ host, port }: DnsServerAddress): string =>
  `${host.includes(":") ? `[${host}]` : host}:${port}`;

const sameName = (a: string, b: string): boolean =>
  a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();

/** A resolver that talks the wire protocol to one server: UDP with retries, TCP after truncation. */
export function createDnsResolver(options: DnsResolverOptions): DnsResolver {
  const server = formatServer(options.server);
  return {
    server,
    async query(name, type) {
      const question: DnsQuestion = { name, type, server };
      const fail = (failure: DnsFailure, detail: string, cause?: unknown): never => {
        throw new DnsQueryError(question, failure, detail, { cause });
      };
      const tries = 1 + options.retries;
      // A server that does not speak EDNS answers FORMERR: ask it again without (RFC 6891 §7).
      let edns = true;
      for (let attempt = 1; attempt <= tries; attempt++) {
        const query = encodeQuery(name, type, edns);
        let reply: Buffer;
        try {
          reply = await exchangeUdp(options.server, query, options.timeoutMs);
        } catch (error) {
          if (error instanceof TransportTimeout) continue;
          return fail("network", `UDP failed: ${describeError(error)}`, error);
        }
        let decoded = decodeReply(reply, question, fail);
        let transport: DnsAnswer["transport"] = "udp";
        if (decoded.flag_tc) {
          transport = "tcp";
          try {
            reply = await exchangeTcp(options.server, encodeQuery(name, type, edns), options.timeoutMs);
          } catch (error) {
            if (error instanceof TransportTimeout) {
              return fail("timeout", `truncated over UDP, and no TCP reply within ${options.timeoutMs} ms`);
            }
            return fail("network", `truncated over UDP, and TCP failed: ${describeError(error)}`, error);
          }
          decoded = decodeReply(reply, question, fail);
        }
        const rcode = RCODES[(decoded.flags ?? 0) & 0xf] ?? `RCODE ${(decoded.flags ?? 0) & 0xf}`;
        if (rcode === "FORMERR" && edns) {
          edns = false;
          attempt -= 1;
          continue;
        }
        if (rcode !== "NOERROR" && rcode !== "NXDOMAIN") {
          const known = ERROR_RCODES[rcode];
          return fail(known?.failure ?? "rcode", known?.text ?? `error RCODE ${rcode}`);
        }
        return {
          question,
          rcode,
          records: (decoded.answers ?? []).flatMap((record) =>
            record.type === "OPT" ? [] : [{ name: record.name, type: record.type, data: record.data }],
          ),
          authenticated: decoded.flag_ad,
          transport,
        };
      }
      return fail(
        "timeout",
        `no reply to ${tries} UDP ${tries === 1 ? "try" : "tries"} of ${options.timeoutMs} ms each`,
      );
    },
  };
}

const EDNS_OPT: packet.Answer = {
  type: "OPT",
  name: ".",
  udpPayloadSize: EDNS_UDP_SIZE,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: [],
};

function encodeQuery(name: string, type: DnsRecordType, edns: boolean): Buffer {
  return packet.encode({
    type: "query",
    id: randomInt(0, 65536),
    // RD: a recursive resolver resolves for us. AD in a query asks for the AD bit back (RFC 6840 §5.7).
    flags: packet.RECURSION_DESIRED | packet.AUTHENTIC_DATA,
    questions: [{ type, name, class: "IN" }],
    additionals: edns ? [EDNS_OPT] : [],
  });
}

function decodeReply(
  reply: Buffer,
  question: DnsQuestion,
  fail: (failure: DnsFailure, detail: string, cause?: unknown) => never,
): packet.DecodedPacket {
  let decoded: packet.DecodedPacket;
  try {
    decoded = packet.decode(reply);
  } catch (error) {
    return fail("malformed", `the reply does not decode: ${describeError(error)}`, error);
  }
  const asked = decoded.questions?.[0];
  if (!decoded.flag_qr) return fail("malformed", "the reply is not marked as a response (QR=0)");
  // A truncated reply may carry no question; anything else must answer what was asked.
  if (!decoded.flag_tc && (!asked || !sameName(asked.name, question.name) || asked.type !== question.type)) {
    return fail(
      "malformed",
      `the reply answers another question (${asked?.type ?? "none"} ${asked?.name ?? ""})`,
    );
  }
  return decoded;
}
