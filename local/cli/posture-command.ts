import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import { createDnsResolver } from "../../core/dns/dns-resolver.ts";
import type { DnsServerAddress } from "../../core/dns/dns-transport.ts";
import {
  parseResolverAddress,
  ResolverAddressError,
  systemResolverAddress,
} from "../../core/dns/resolver-address.ts";
import { checkPosture } from "../../core/posture/check-posture.ts";
import { POSTURE_REASONS } from "../../core/posture/posture-reasons.ts";
import { type CommandIo, UsageError } from "./io.ts";
import { formatPosture, worstPosture } from "./posture-format.ts";
import { POSTURE_RECORD_OPTIONS, postureRecordOptions } from "./posture-record-options.ts";

export const POSTURE_HELP = `Usage: email-scout posture <domain> [options]

Checks a mail domain's DNS like a Nagios plugin: MX (RFC 5321, 7505), SPF (RFC 7208),
DMARC (RFC 7489), MTA-STS (RFC 8461, the policy fetched over HTTPS), TLS-RPT (RFC 8460),
reverse DNS of the MX addresses, DNS blocklists, and DANE (RFC 7672: TLSA of each MX host
against the certificate chain it presents after STARTTLS on port 25; needs a validating
resolver). Prints a status line with perfdata, then one line per finding, worst first;
exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Options:
      --resolver HOST[:PORT]  the DNS server to ask, an IP address (default: the first
                              nameserver in /etc/resolv.conf; [::1]:53 for IPv6)
      --sender-ip IP          the monitor's outbound IP: would its mail pass SPF?
      --from-domain D         the From domain of the probes: does it align under DMARC?
      --mx-host NAME          an SMTP host the service checks watch (repeat): compared with MX
      --mta-sts-required      a domain without MTA-STS is a WARNING (default: OK, "not published")
      --tls-rpt-required      a domain without TLS-RPT is a WARNING (default: OK, "not published")
      --ca-file FILE          PEM CAs the MTA-STS policy host's certificate must chain to
                              (default: the system's CAs)
      --https-timeout SECONDS deadline of the MTA-STS policy fetch (default 10)
      --banner MXHOST=NAME    the host name MXHOST's SMTP banner announces (repeat): compared
                              with the PTR of its addresses
      --dnsbl ZONE[=SEVERITY] a blocklist to ask, WARNING (default) or CRITICAL when listed
                              (repeat; replaces the default lists: zen.spamhaus.org,
                              bl.spamcop.net, psbl.surriel.com, dnsbl-1.uceprotect.net,
                              bl.mailspike.net; b.barracudacentral.org is opt-in: it answers
                              registered resolvers only)
      --no-dnsbl              ask no blocklist
      --outbound-ip IP        an address your mail leaves from (repeat): looked up in the
                              blocklists beside the MX addresses
      --timeout SECONDS       deadline of one DNS query try (default 3)
      --retries N             UDP tries after the first (default 2)
      --json                  print the results as JSON (exit code unchanged)
      --reasons               list every posture reason code with its status and meaning
  -h, --help                  this text

Example:
  email-scout posture example.com --sender-ip 192.0.2.25 --from-domain example.com
  email-scout posture example.com --resolver 127.0.0.1 --outbound-ip 198.51.100.7 \
      --banner mx1.example.com=mx1.example.com --dnsbl zen.spamhaus.org=CRITICAL

Spamhaus refuses queries through public resolvers (8.8.8.8, 1.1.1.1, ...): ask your own
resolver, or name a DQS zone (--dnsbl KEY.zen.dq.spamhaus.net=CRITICAL).
`;

const OPTIONS = {
  resolver: { type: "string" },
  "sender-ip": { type: "string" },
  "from-domain": { type: "string" },
  "mx-host": { type: "string", multiple: true },
  timeout: { type: "string" },
  retries: { type: "string" },
  json: { type: "boolean" },
  reasons: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...POSTURE_RECORD_OPTIONS,
} as const;

const DOMAIN = /^(?=.{1,253}\.?$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}\.?$/i;

/** The --resolver option, its errors as usage errors. */
export function parseResolver(text: string): DnsServerAddress {
  try {
    return parseResolverAddress(text);
  } catch (error) {
    if (error instanceof ResolverAddressError) throw new UsageError(`--resolver ${error.message}`);
    throw error;
  }
}

function systemResolver(): DnsServerAddress {
  try {
    return systemResolverAddress();
  } catch (error) {
    if (error instanceof ResolverAddressError)
      throw new UsageError(`no --resolver given and ${error.message}`);
    throw error;
  }
}

function positiveNumber(text: string | undefined, option: string, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value)) ||
    (!integer && value === 0)
  ) {
    throw new UsageError(`${option} needs a ${integer ? "whole number" : "positive number"}, got "${text}"`);
  }
  return value;
}

/** `email-scout posture`: returns the Nagios exit code. */
export async function postureCommand(args: string[], io: CommandIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(POSTURE_HELP);
      return 0;
    }
    if (values.reasons) {
      const width = Math.max(...Object.keys(POSTURE_REASONS).map((reason) => reason.length));
      for (const [reason, { status, text }] of Object.entries(POSTURE_REASONS)) {
        io.stdout(`${reason.padEnd(width)} ${status.padEnd(8)} ${text}`);
      }
      return 0;
    }
    const domain = positionals[0];
    if (positionals.length !== 1 || domain === undefined) throw new UsageError("give exactly one domain");
    if (!DOMAIN.test(domain)) throw new UsageError(`"${domain}" is not a domain name`);
    const senderIp = values["sender-ip"];
    if (senderIp !== undefined && isIP(senderIp) === 0) {
      throw new UsageError(`--sender-ip needs an IP address, got "${senderIp}"`);
    }
    const fromDomain = values["from-domain"];
    if (fromDomain !== undefined && !DOMAIN.test(fromDomain)) {
      throw new UsageError(`--from-domain needs a domain name, got "${fromDomain}"`);
    }
    const resolver = createDnsResolver({
      server: values.resolver === undefined ? systemResolver() : parseResolver(values.resolver),
      timeoutMs: positiveNumber(values.timeout, "--timeout", 3) * 1000,
      retries: positiveNumber(values.retries, "--retries", 2, true),
    });
    const results = await checkPosture(resolver, domain.replace(/\.$/, ""), {
      ...(senderIp === undefined ? {} : { senderIp }),
      ...(fromDomain === undefined ? {} : { fromDomain }),
      ...(values["mx-host"] === undefined ? {} : { endpointHosts: values["mx-host"] }),
      ...postureRecordOptions(values),
    });
    io.stdout(values.json ? JSON.stringify(results, null, 2) : formatPosture(domain, results));
    return EXIT_CODES[worstPosture(results)];
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stdout(`POSTURE UNKNOWN - config-error: ${error.message}; see email-scout posture --help`);
    return EXIT_CODES.UNKNOWN;
  }
}
