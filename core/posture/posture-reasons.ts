/**
 * The reason codes a mail DNS posture check can end with, each with the Nagios status it
 * carries by default and a one-line explanation with its RFC. Some findings are graded when
 * found (an unresolvable MX host is WARNING while another MX host resolves); the status here is
 * the usual one.
 */
import type { Status } from "../model/status.ts";

export const POSTURE_REASONS = {
  ok: { status: "OK", text: "the records are present and well formed" },
  "dns-error": {
    status: "UNKNOWN",
    text: "a DNS query failed (timeout, SERVFAIL, REFUSED): the message names the query",
  },
  "check-error": {
    status: "UNKNOWN",
    text: "the check failed other than by DNS (the message names the error); the other checks' results stand",
  },
  "posture-budget-exceeded": {
    status: "UNKNOWN",
    text: "the check had not finished when the run's posture.budgetSeconds ran out; the other checks' results stand",
  },
  "domain-missing": { status: "CRITICAL", text: "the domain does not exist (NXDOMAIN)" },
  "mx-missing": {
    status: "CRITICAL",
    text: "no MX records; WARNING when the domain's own A/AAAA stands in (implicit MX, RFC 5321 §5.1)",
  },
  "mx-null": { status: "WARNING", text: "a null MX: the domain declares it accepts no mail (RFC 7505)" },
  "mx-invalid": {
    status: "CRITICAL",
    text: "a null MX beside other MX records (RFC 7505 §3), or an MX exchange that is no host name",
  },
  "mx-ip-literal": {
    status: "CRITICAL",
    text: "an MX exchange is an IP address; it must be a host name (RFC 5321 §5.1, RFC 7505 §3)",
  },
  "mx-cname": {
    status: "WARNING",
    text: "an MX exchange is an alias (CNAME); it must name an address record (RFC 2181 §10.3)",
  },
  "mx-host-unresolved": {
    status: "CRITICAL",
    text: "an MX host has no A/AAAA; WARNING while another MX host resolves (RFC 5321 §5.1)",
  },
  "mx-endpoints-differ": {
    status: "WARNING",
    text: "the MX hosts are not the SMTP hosts the target's service checks watch",
  },
  "spf-missing": { status: "WARNING", text: "no v=spf1 TXT record: SPF result none (RFC 7208 §4.5)" },
  "spf-multiple": { status: "CRITICAL", text: "more than one v=spf1 record: permerror (RFC 7208 §4.5)" },
  "spf-syntax": {
    status: "CRITICAL",
    text: "a mechanism or modifier breaks the grammar, or an include has no SPF: permerror (RFC 7208 §4.6, §5.2)",
  },
  "spf-too-many-lookups": {
    status: "CRITICAL",
    text: "more than 10 DNS-querying terms (include, a, mx, ptr, exists, redirect): permerror (RFC 7208 §4.6.4)",
  },
  "spf-void-lookups": {
    status: "CRITICAL",
    text: "more than 2 lookups that found nothing (NXDOMAIN or no records): permerror (RFC 7208 §4.6.4)",
  },
  "spf-pass-all": { status: "CRITICAL", text: "+all: every host on the internet passes (RFC 7208 §5.1)" },
  "spf-neutral-all": { status: "WARNING", text: "?all: mail from any other host is neutral (RFC 7208 §8.2)" },
  "spf-no-all": {
    status: "WARNING",
    text: "neither an all mechanism nor a redirect: other hosts get neutral (RFC 7208 §4.7)",
  },
  "spf-sender-not-pass": {
    status: "WARNING",
    text: "the monitor's sender IP would not pass: CRITICAL on fail, WARNING on softfail or neutral (RFC 7208 §2.6)",
  },
  "dmarc-missing": {
    status: "WARNING",
    text: "no v=DMARC1 record at _dmarc.<domain> nor at its organizational domain (RFC 7489 §6.6.3)",
  },
  "dmarc-multiple": {
    status: "CRITICAL",
    text: "more than one v=DMARC1 record: receivers apply no policy (RFC 7489 §6.6.3)",
  },
  "dmarc-syntax": {
    status: "CRITICAL",
    text: "the record breaks the grammar: v=DMARC1 first, p= required, known tags and values (RFC 7489 §6.3, §6.4)",
  },
  "dmarc-monitoring-only": {
    status: "WARNING",
    text: "p=none: monitoring only, receivers act on nothing (RFC 7489 §6.3)",
  },
  "dmarc-not-aligned": {
    status: "WARNING",
    text: "the probe's From domain does not align with the domain under the record's mode (RFC 7489 §3.1)",
  },
  "mta-sts-missing": {
    status: "WARNING",
    text: "no MTA-STS record at _mta-sts.<domain> where the configuration requires one; OK (not published) otherwise (RFC 8461 §3.1)",
  },
  "mta-sts-record-invalid": {
    status: "WARNING",
    text: "the _mta-sts TXT record is malformed or not alone: senders act as if there were no MTA-STS (RFC 8461 §3.1)",
  },
  "mta-sts-policy-unavailable": {
    status: "WARNING",
    text: "the policy cannot be fetched over HTTPS (the error is named): senders without a cached policy get no MTA-STS (RFC 8461 §3.3)",
  },
  "mta-sts-policy-invalid": {
    status: "WARNING",
    text: "the policy breaks the grammar: version, mode, max_age or mx lines (RFC 8461 §3.2)",
  },
  "mta-sts-mx-not-covered": {
    status: "CRITICAL",
    text: "an MX host matches no mx: pattern of the policy: senders refuse it under mode enforce (CRITICAL), report it under testing (WARNING) (RFC 8461 §4.1)",
  },
  "mta-sts-max-age-short": {
    status: "WARNING",
    text: "max_age under a day: the policy protects little between fetches; weeks are expected (RFC 8461 §3.2)",
  },
  "tls-rpt-missing": {
    status: "WARNING",
    text: "no TLS-RPT record at _smtp._tls.<domain> where the configuration requires one; OK (not published) otherwise (RFC 8460 §3)",
  },
  "tls-rpt-multiple": {
    status: "WARNING",
    text: "more than one v=TLSRPTv1 record: senders send no reports (RFC 8460 §3)",
  },
  "tls-rpt-syntax": {
    status: "WARNING",
    text: "the record breaks the grammar: v=TLSRPTv1 first, rua= with mailto: or https: URIs (RFC 8460 §3)",
  },
  "ptr-missing": {
    status: "WARNING",
    text: "an MX address has no PTR record: many receivers distrust such senders (RFC 1912 §2.1)",
  },
  "ptr-mismatch": {
    status: "WARNING",
    text: "no name of an MX address's PTR resolves back to it: forward-confirmed reverse DNS fails (RFC 8601 §3)",
  },
  "ptr-banner-mismatch": {
    status: "WARNING",
    text: "the SMTP banner's host name is not a confirmed PTR name of the MX host's addresses",
  },
  "dnsbl-listed": {
    status: "WARNING",
    text: "an MX or outbound IP is on a blocklist: WARNING or CRITICAL as configured per list (RFC 5782 §2.1)",
  },
  "dnsbl-refused": {
    status: "UNKNOWN",
    text: "a blocklist refused the query (e.g. Spamhaus 127.255.255.254: public resolver) or gave no listing code: not a listing",
  },
  "tlsa-mismatch": {
    status: "CRITICAL",
    text: "no usable TLSA record of an MX host matches the chain it presents on port 25: DANE senders defer mail (RFC 7672 §3, RFC 7671 §5)",
  },
  "tlsa-unusable": {
    status: "WARNING",
    text: "every TLSA record of an MX host is unusable for SMTP: usage 0/1 (PKIX) or unknown parameters (RFC 7672 §3.1.3)",
  },
  "dane-not-validated": {
    status: "WARNING",
    text: "a TLSA or the MX answer came without the AD bit: DANE needs DNSSEC; use a validating resolver (RFC 7672 §2.2)",
  },
  "dane-chain-unavailable": {
    status: "UNKNOWN",
    text: "TLSA records are published but the MX host's certificate chain could not be read after STARTTLS",
  },
} as const satisfies Record<string, { status: Status; text: string }>;

export type PostureReason = keyof typeof POSTURE_REASONS;

/** Which reason is shown first among findings of one status: the most basic breakage first. */
export const POSTURE_REASON_ORDER = Object.keys(POSTURE_REASONS).filter(
  (reason) => reason !== "ok",
) as PostureReason[];
