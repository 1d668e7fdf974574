import { isIP } from "node:net";
import type { CheckResult } from "../checks/result.ts";

/**
 * The host name each port-25 SMTP endpoint announced in its greeting ("220 mx.example.com
 * ESMTP ..."; RFC 5321 §4.2 puts the server's domain first), keyed by the endpoint's host: what
 * reverse DNS compares with the PTR names of the MX addresses. Greetings that name no domain (an
 * address literal, a bare word) are left out rather than guessed at.
 */
export function bannerHostsOf(results: readonly CheckResult[]): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const result of results) {
    if (result.kind !== "smtp" || result.port !== 25 || result.banner === undefined) continue;
    const name = /^220[ -]([^\s]+)/.exec(result.banner)?.[1]?.replace(/\.$/, "");
    if (name === undefined || !name.includes(".") || isIP(name) !== 0 || name.startsWith("[")) continue;
    hosts[result.host.toLowerCase()] = name.toLowerCase();
  }
  return hosts;
}
