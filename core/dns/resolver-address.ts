import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { DnsServerAddress } from "./dns-transport.ts";

/** A resolver written wrong, or none to be found: the message says which and what to write. */
export class ResolverAddressError extends Error {
  override readonly name = "ResolverAddressError";
}

/**
 * "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53" or "::1": an address, never a name
 * (a resolver found by name would need a resolver first).
 */
export function parseResolverAddress(text: string): DnsServerAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(text);
  const [host, port] = bracketed
    ? [bracketed[1] ?? "", bracketed[2]]
    : isIP(text) === 6
      ? [text, undefined]
      : [plain?.[1] ?? "", plain?.[2]];
  if (isIP(host) === 0) throw new ResolverAddressError(`needs an IP address (and :PORT), got "${text}"`);
  const number = port === undefined ? 53 : Number(port);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    throw new ResolverAddressError(`port must be 1-65535, got "${port}"`);
  }
  return { host, port: number };
}

/** The first `nameserver` line of a resolv.conf text, or undefined when it names none. */
export function firstNameserver(resolvConf: string): DnsServerAddress | undefined {
  const line = /^\s*nameserver\s+(\S+)/m.exec(resolvConf);
  // A scoped IPv6 address (fe80::1%eth0) is asked without its zone.
  const address = line?.[1]?.replace(/%.*$/, "");
  return address && isIP(address) !== 0 ? { host: address, port: 53 } : undefined;
}

/**
 * The first nameserver of /etc/resolv.conf, as the system's own resolver uses it: the host's
 * resolver locally, the one the Lambda environment provides (in the VPC) inside a Lambda.
 */
export function systemResolverAddress(path = "/etc/resolv.conf"): DnsServerAddress {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ResolverAddressError(`${path} is unreadable: name a resolver (IP[:PORT])`);
  }
  const found = firstNameserver(text);
  if (found === undefined) throw new ResolverAddressError(`${path} names no nameserver: name a resolver`);
  return found;
}
