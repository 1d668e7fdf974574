import { isIP } from "node:net";
import { addresses, mxRecords } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { ask } from "./posture-dns.ts";
import type { PostureFinding } from "./posture-result.ts";

/** An MX host and the addresses it resolves to. */
export interface MxHostAddresses {
  readonly host: string;
  readonly addresses: string[];
}

/**
 * The MX hosts of a domain (by preference) with their A/AAAA addresses, for the checks that
 * look at each MX host (MTA-STS, reverse DNS, blocklists). A null MX, an IP literal or a host
 * without addresses is left out or empty here: the MX check reports those. A failed query is a
 * dns-error finding; undefined when the MX query itself failed.
 */
export async function mxHostAddresses(
  resolver: DnsResolver,
  domain: string,
  findings: PostureFinding[],
): Promise<MxHostAddresses[] | undefined> {
  const answer = await ask(resolver, domain, "MX", findings);
  if (!answer) return undefined;
  const exchanges = mxRecords(answer)
    .sort((a, b) => a.preference - b.preference)
    .map((record) => record.exchange)
    .filter(
      (exchange) => exchange !== "" && exchange !== "." && isIP(exchange.replace(/^\[|\]$/g, "")) === 0,
    );
  return Promise.all(
    [...new Set(exchanges)].map(async (host) => {
      const [v4, v6] = await Promise.all([
        ask(resolver, host, "A", findings),
        ask(resolver, host, "AAAA", findings),
      ]);
      return { host, addresses: [...(v4 ? addresses(v4) : []), ...(v6 ? addresses(v6) : [])] };
    }),
  );
}
