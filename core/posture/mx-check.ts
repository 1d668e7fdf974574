import { isIP } from "node:net";
import { addresses, cnameOf, mxRecords } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { ask, normalName } from "./posture-dns.ts";
import { finding, type PostureFinding, type PostureResult, postureResult } from "./posture-result.ts";

/** One MX record and what its exchange resolved to. */
export interface MxHostFacts {
  readonly preference: number;
  readonly exchange: string;
  readonly addresses: string[];
  /** The CNAME target, when the exchange is an alias. */
  readonly cname?: string;
}

export interface MxFacts {
  /** In order of preference (lowest first: tried first, RFC 5321 §5.1). */
  readonly hosts: MxHostFacts[];
  readonly nullMx: boolean;
  /** With no MX, the domain's own addresses that stand in (implicit MX). */
  readonly implicitMx?: string[];
  /** The SMTP hosts the target's service checks watch, when given. */
  readonly endpointHosts?: string[];
}

export interface MxCheckOptions {
  /** The host names of the target's SMTP endpoints, compared with the MX hosts. */
  readonly endpointHosts?: readonly string[];
}

/** MX posture: present, each exchange a host name that resolves without an alias, null MX recognised. */
export async function checkMx(
  resolver: DnsResolver,
  domain: string,
  options: MxCheckOptions = {},
): Promise<PostureResult<MxFacts>> {
  const started = Date.now();
  const findings: PostureFinding[] = [];
  const hosts: MxHostFacts[] = [];
  const facts: { hosts: MxHostFacts[]; nullMx: boolean; implicitMx?: string[]; endpointHosts?: string[] } = {
    hosts,
    nullMx: false,
  };
  const done = (okMessage: string) =>
    postureResult({ check: "mx", domain, resolver: resolver.server, started, findings, facts, okMessage });

  const answer = await ask(resolver, domain, "MX", findings);
  if (!answer) return done("");
  if (answer.rcode === "NXDOMAIN") {
    findings.push(finding("domain-missing", `${domain} does not exist (NXDOMAIN)`));
    return done("");
  }
  const records = mxRecords(answer).sort((a, b) => a.preference - b.preference);
  if (records.length === 0) {
    const [v4, v6] = await Promise.all([
      ask(resolver, domain, "A", findings),
      ask(resolver, domain, "AAAA", findings),
    ]);
    const implicit = [...(v4 ? addresses(v4) : []), ...(v6 ? addresses(v6) : [])];
    facts.implicitMx = implicit;
    findings.push(
      implicit.length > 0
        ? finding(
            "mx-missing",
            `no MX records; mail goes to ${domain}'s own address (implicit MX)`,
            "WARNING",
          )
        : finding("mx-missing", `no MX records, and ${domain} has no A/AAAA: no mail can be delivered`),
    );
    return done("");
  }
  // A null MX is one record, preference 0, exchange "." (RFC 7505 §3).
  const nullRecords = records.filter((record) => record.exchange === "" || record.exchange === ".");
  if (nullRecords.length > 0) {
    facts.nullMx = true;
    findings.push(
      records.length === 1
        ? finding("mx-null", `${domain} has a null MX: it declares that it accepts no mail`)
        : finding("mx-invalid", `${domain} has a null MX beside ${records.length - 1} other MX records`),
    );
  }

  const unanswered = new Set<string>();
  for (const record of records) {
    if (nullRecords.includes(record)) continue;
    const exchange = record.exchange;
    const literal = exchange.replace(/^\[|\]$/g, "");
    if (isIP(literal) !== 0) {
      hosts.push({ preference: record.preference, exchange, addresses: [] });
      findings.push(
        finding("mx-ip-literal", `MX ${record.preference} ${exchange} is an IP address, not a host name`),
      );
      continue;
    }
    const [v4, v6] = await Promise.all([
      ask(resolver, exchange, "A", findings),
      ask(resolver, exchange, "AAAA", findings),
    ]);
    const cname = (v4 && cnameOf(v4)) ?? (v6 && cnameOf(v6));
    const found = [...(v4 ? addresses(v4) : []), ...(v6 ? addresses(v6) : [])];
    hosts.push({ preference: record.preference, exchange, addresses: found, ...(cname ? { cname } : {}) });
    // A failed query (already a dns-error) leaves the host's addresses unknown, not absent.
    if (!v4 || !v6) unanswered.add(exchange);
    if (cname)
      findings.push(finding("mx-cname", `MX ${record.preference} ${exchange} is an alias of ${cname}`));
  }

  const resolving = hosts.filter((host) => host.addresses.length > 0);
  for (const host of hosts) {
    if (host.addresses.length > 0 || unanswered.has(host.exchange)) continue;
    if (isIP(host.exchange.replace(/^\[|\]$/g, "")) !== 0) continue;
    const status = resolving.length > 0 ? "WARNING" : "CRITICAL";
    findings.push(
      finding("mx-host-unresolved", `MX ${host.preference} ${host.exchange} has no A/AAAA`, status),
    );
  }

  if (options.endpointHosts && options.endpointHosts.length > 0) {
    const watched = [...new Set(options.endpointHosts.map(normalName))].sort();
    facts.endpointHosts = watched;
    const mxNames = new Set(hosts.map((host) => normalName(host.exchange)));
    const unwatched = [...mxNames].filter((name) => !watched.includes(name)).sort();
    const notMx = watched.filter((name) => !mxNames.has(name));
    if (unwatched.length > 0 || notMx.length > 0) {
      const parts = [
        unwatched.length > 0 ? `MX hosts not watched: ${unwatched.join(", ")}` : "",
        notMx.length > 0 ? `watched SMTP hosts not in MX: ${notMx.join(", ")}` : "",
      ].filter(Boolean);
      findings.push(finding("mx-endpoints-differ", parts.join("; ")));
    }
  }
  const list = hosts.map((host) => `${host.preference} ${host.exchange}`).join(", ");
  return done(`MX ${list}`);
}
