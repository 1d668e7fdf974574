import { isIPv4, isIPv6 } from "node:net";

/** IP addresses as numbers, for the prefix matches of SPF's ip4/ip6/a/mx (RFC 7208 §5.6). */

function ipv4Bits(address: string): bigint {
  return address.split(".").reduce((sum, octet) => (sum << 8n) + BigInt(Number(octet)), 0n);
}

function ipv6Bits(address: string): bigint {
  let text = address.toLowerCase();
  // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const bits = ipv4Bits(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(bits >> 16n).toString(16)}:${(bits & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(Number.parseInt(group, 16)), 0n);
}

/** An IPv6 address as its 32 hex digits, every zero written out: the form of ip6.arpa names. */
export const ipv6Digits = (address: string): string => ipv6Bits(address).toString(16).padStart(32, "0");

/** Whether two addresses are the same, however each is written ("2001:db8::1", "2001:DB8:0::1"). */
export function sameAddress(a: string, b: string): boolean {
  const family = ipFamily(a);
  if (family === 0 || family !== ipFamily(b)) return false;
  return family === 4 ? a === b : ipv6Bits(a) === ipv6Bits(b);
}

/** The address family: 4, 6, or 0 for no address. */
export const ipFamily = (address: string): 4 | 6 | 0 => (isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0);

/** Whether `address` lies in `network`/`prefix`; addresses of different families never match. */
export function inNetwork(address: string, network: string, prefix?: number): boolean {
  const family = ipFamily(address);
  if (family === 0 || family !== ipFamily(network)) return false;
  const width = family === 4 ? 32 : 128;
  const length = BigInt(prefix ?? width);
  const bits = family === 4 ? ipv4Bits : ipv6Bits;
  const shift = BigInt(width) - length;
  return bits(address) >> shift === bits(network) >> shift;
}
