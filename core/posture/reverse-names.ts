import { ipFamily, ipv6Digits } from "./ip-network.ts";

/**
 * The DNS name an address is looked up under, below a zone: its octets reversed for IPv4
 * (192.0.2.1 -> 1.2.0.192.<zone>, RFC 1035 §3.5), its 32 nibbles reversed for IPv6
 * (RFC 3596 §2.5). PTR queries use in-addr.arpa / ip6.arpa; DNS blocklists put their own zone
 * there instead (RFC 5782 §2.1, §2.4).
 */
export function reversedName(address: string, zone: string): string {
  const family = ipFamily(address);
  if (family === 0) throw new TypeError(`"${address}" is not an IP address`);
  const labels = family === 4 ? address.split(".").reverse() : [...ipv6Digits(address)].reverse();
  return `${labels.join(".")}.${zone.replace(/\.$/, "")}`;
}

/** The PTR query name of an address: in-addr.arpa for IPv4, ip6.arpa for IPv6. */
export const ptrName = (address: string): string =>
  reversedName(address, ipFamily(address) === 6 ? "ip6.arpa" : "in-addr.arpa");
