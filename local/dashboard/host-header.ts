import { isIPv6 } from "node:net";

/** A Host header taken apart: the name (lower case, IPv6 without brackets) and the port, if any. */
export interface HostHeader {
  readonly name: string;
  readonly port?: number;
}

/** The loopback names any dashboard answers to without a token; the bound address is added. */
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1"]);
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
/** Canonical dotted quads only: `127.1`, `0x7f.0.0.1` and `127.000.0.1` are other spellings. */
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
/** RFC 9110 7.2: Host = uri-host [ ":" port ]; no userinfo, no path, no empty port. */
const HOST_HEADER = /^(?:\[([^\]]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$/;

/**
 * Parses a Host header exactly, or returns undefined: `[::1]evil.com`, `a@127.0.0.1`, an empty
 * value, a port alone or a port over 65535 are not hosts. A name must be an IPv6 literal in
 * brackets, a canonical dotted quad, or DNS labels without a trailing dot.
 */
export function parseHostHeader(value: string | undefined): HostHeader | undefined {
  const match = value === undefined ? null : HOST_HEADER.exec(value);
  if (!match) return undefined;
  const [, ipv6, other, portText] = match;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  let name: string;
  if (ipv6 !== undefined) {
    if (!isIPv6(ipv6)) return undefined;
    // The URL parser writes an IPv6 address in its one canonical form (RFC 5952).
    name = new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);
  } else {
    name = (other as string).toLowerCase();
    if (/^[\d.]+$/.test(name) ? !DOTTED_QUAD.test(name) : !isDnsName(name)) return undefined;
  }
  return port === undefined ? { name } : { name, port };
}

function isDnsName(name: string): boolean {
  return name.split(".").every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

/**
 * True when a request's Host names loopback: localhost, 127.0.0.1, ::1, or the loopback address
 * the dashboard is bound to (e.g. 127.0.0.2). A page whose DNS name an attacker rebinds to
 * 127.0.0.1 still sends its own name, so it is refused (DNS rebinding). The port is not
 * compared: a forwarded port (ssh -L 9000:127.0.0.1:8025) reaches the same server honestly.
 */
export function isLoopbackHostHeader(value: string | undefined, boundHost: string): boolean {
  const host = parseHostHeader(value);
  if (host === undefined) return false;
  if (LOOPBACK_NAMES.has(host.name)) return true;
  const bound = parseHostHeader(
    boundHost.includes(":") && !boundHost.startsWith("[") ? `[${boundHost}]` : boundHost,
  );
  return bound !== undefined && bound.name === host.name && isLoopbackAddress(bound.name);
}

/** 127.0.0.0/8 or ::1, already canonical. */
function isLoopbackAddress(name: string): boolean {
  return name === "::1" || (DOTTED_QUAD.test(name) && name.startsWith("127."));
}
