import type { LookupAddress, LookupOptions } from "node:dns";
import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Addresses a webhook is never sent to unless its endpoint sets `allowLinkLocalAddresses`:
 * whoever can set a webhook URL (or its DNS) must not make the monitor POST to the cloud's
 * metadata service or to a neighbour on the link. Loopback and RFC 1918 stay allowed: local
 * receivers are common. IPv4-mapped IPv6 forms (::ffff:169.254.169.254) match their IPv4 rule.
 */
const REFUSED_RANGES: ReadonlyArray<{
  readonly network: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
  readonly what: string;
}> = [
  // Checked first: the more specific name wins in messages.
  { network: "169.254.169.254", prefix: 32, family: "ipv4", what: "a cloud metadata address" },
  { network: "fd00:ec2::254", prefix: 128, family: "ipv6", what: "a cloud metadata address (AWS IPv6)" },
  {
    network: "64:ff9b::a9fe:a9fe",
    prefix: 128,
    family: "ipv6",
    what: "a cloud metadata address (NAT64, RFC 6052)",
  },
  { network: "169.254.0.0", prefix: 16, family: "ipv4", what: "a link-local address (RFC 3927)" },
  { network: "fe80::", prefix: 10, family: "ipv6", what: "a link-local address (RFC 4291)" },
  { network: "0.0.0.0", prefix: 8, family: "ipv4", what: "an unspecified address (RFC 1122)" },
  { network: "::", prefix: 128, family: "ipv6", what: "an unspecified address (RFC 4291)" },
];

const RANGES = REFUSED_RANGES.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.family);
  return { list, what: range.what };
});

/** What a refused IP address is ("a cloud metadata address"...), or undefined when it may be used. */
export function refusedAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  return RANGES.find((range) => range.list.check(address, type))?.what;
}

/**
 * The refused address a URL's host is written as, if it is an IP literal. The WHATWG parser
 * has already turned decimal, hex and octal IPv4 (http://2852039166/) into dotted form.
 */
export function refusedUrlHost(url: URL): { address: string; kind: string } | undefined {
  const address = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  const kind = refusedAddressKind(address);
  return kind === undefined ? undefined : { address, kind };
}

/** A webhook's host is, or resolves to, an address it must not be sent to. Not retried. */
export class RefusedAddressError extends Error {
  override readonly name = "RefusedAddressError";
  readonly code = "EREFUSEDADDRESS";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    super(
      `${host === address ? address : `${host} resolves to ${address}`}, ${kind}: not sent there; ` +
        "set allowLinkLocalAddresses: true on the endpoint if the receiver really listens there",
    );
  }
}

/** dns.lookup's shape with `all: true`, the form the guard asks for. */
export type LookupAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemLookupAll: LookupAll = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A `lookup` for node:http(s) that resolves every address of the name and refuses the
 * connection when any of them is refused: checking at connect time, on the addresses actually
 * used, is what defeats DNS rebinding (a name that passed a check and then points elsewhere).
 */
export function guardedLookup(resolveAll: LookupAll = systemLookupAll): LookupFunction {
  return (hostname, options, callback) => {
    resolveAll(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const kind = refusedAddressKind(address);
        if (kind !== undefined) return callback(new RefusedAddressError(hostname, address, kind), []);
      }
      const [first] = addresses;
      if (options.all) return callback(null, addresses);
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      return callback(null, first.address, first.family);
    });
  };
}
