import { describeError } from "../basics/describe-error.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import type { ChainSource } from "./dane-chain.ts";
import { checkDane } from "./dane-check.ts";
import { checkDmarc } from "./dmarc-check.ts";
import { checkDnsbl } from "./dnsbl-check.ts";
import type { DnsblList } from "./dnsbl-lists.ts";
import { checkMtaSts, type MtaStsCheckOptions } from "./mta-sts-check.ts";
import { checkMx } from "./mx-check.ts";
import { memoized } from "./posture-dns.ts";
import type { PostureReason } from "./posture-reasons.ts";
import {
  finding,
  type PostureCheckName,
  type PostureResult,
  postureResult,
  withoutIgnored,
} from "./posture-result.ts";
import { checkReverseDns } from "./reverse-dns-check.ts";
import { checkSpf } from "./spf-check.ts";
import { checkTlsRpt } from "./tls-rpt-check.ts";

export interface PostureOptions {
  readonly endpointHosts?: readonly string[];
  readonly senderIp?: string;
  readonly fromDomain?: string;
  /** How the MTA-STS policy is fetched and whether MTA-STS is required. */
  readonly mtaSts?: MtaStsCheckOptions;
  /** A missing TLS-RPT record is a WARNING rather than "not published". */
  readonly tlsRptRequired?: boolean;
  /** MX host name -> the host name its SMTP banner announced, compared with its PTR. */
  readonly bannerHosts?: Readonly<Record<string, string>>;
  /** The blocklists to ask (default DEFAULT_DNSBLS; empty: none). */
  readonly dnsbls?: readonly DnsblList[];
  /** Outbound addresses looked up in the blocklists beside the MX addresses. */
  readonly outboundIps?: readonly string[];
  /** The MX hosts' certificate chains for DANE; by default read over STARTTLS on port 25. */
  readonly chainOf?: ChainSource;
  /**
   * The whole run's deadline: a check not finished by then is an UNKNOWN result
   * (posture-budget-exceeded) and the others are kept. None by default.
   */
  readonly budgetMs?: number;
  /** Reasons whose findings are dropped before each result's status is made (targets[].posture.ignore). */
  readonly ignore?: readonly PostureReason[];
}

type PostureCheckRun = (
  resolver: DnsResolver,
  domain: string,
  options: PostureOptions,
) => Promise<PostureResult>;

const optional = <K extends keyof PostureOptions>(options: PostureOptions, key: K) =>
  options[key] === undefined ? {} : { [key]: options[key] };

/** Every posture check, in the order of its results. */
const POSTURE_CHECKS: ReadonlyArray<readonly [PostureCheckName, PostureCheckRun]> = [
  ["mx", (dns, domain, options) => checkMx(dns, domain, optional(options, "endpointHosts"))],
  ["spf", (dns, domain, options) => checkSpf(dns, domain, optional(options, "senderIp"))],
  ["dmarc", (dns, domain, options) => checkDmarc(dns, domain, optional(options, "fromDomain"))],
  ["mta-sts", (dns, domain, options) => checkMtaSts(dns, domain, options.mtaSts)],
  [
    "tls-rpt",
    (dns, domain, options) =>
      checkTlsRpt(
        dns,
        domain,
        options.tlsRptRequired === undefined ? {} : { required: options.tlsRptRequired },
      ),
  ],
  ["reverse-dns", (dns, domain, options) => checkReverseDns(dns, domain, optional(options, "bannerHosts"))],
  [
    "dnsbl",
    (dns, domain, options) =>
      checkDnsbl(dns, domain, { ...optional(options, "dnsbls"), ...optional(options, "outboundIps") }),
  ],
  ["dane", (dns, domain, options) => checkDane(dns, domain, optional(options, "chainOf"))],
];

/** A check still running when the posture's budget ran out. */
class PostureBudgetExceeded extends Error {
  override readonly name = "PostureBudgetExceeded";
}

/**
 * Every mail DNS posture check of one domain, in a fixed order: MX, SPF, DMARC, MTA-STS,
 * TLS-RPT, reverse DNS, blocklists, DANE. The checks share one memo of answers: each asks the MX
 * hosts and their addresses, and the resolver hears each question once. Each check stands
 * alone: one that throws (a DNS failure is a finding, not a throw) is an UNKNOWN check-error
 * result, and one still running at `budgetMs` an UNKNOWN posture-budget-exceeded result, so the
 * others' results are kept and the run counts as done (its schedule holds: no re-run next cycle).
 */
export async function checkPosture(
  resolver: DnsResolver,
  domain: string,
  options: PostureOptions = {},
): Promise<PostureResult[]> {
  const shared = memoized(resolver);
  const started = Date.now();
  const budget = budgetOf(options.budgetMs);
  try {
    const settled = await Promise.allSettled(
      POSTURE_CHECKS.map(([, run]) => budget.race(run(shared, domain, options))),
    );
    const ignored = new Set(options.ignore ?? []);
    return settled.map((outcome, index) => {
      if (outcome.status === "fulfilled") return withoutIgnored(outcome.value, ignored);
      const check = (POSTURE_CHECKS[index] as (typeof POSTURE_CHECKS)[number])[0];
      const failure =
        outcome.reason instanceof PostureBudgetExceeded
          ? finding("posture-budget-exceeded", outcome.reason.message)
          : finding("check-error", `the ${check} check failed: ${describeError(outcome.reason)}`);
      return postureResult({
        check,
        domain,
        resolver: resolver.server,
        started,
        findings: [failure],
        facts: {},
        okMessage: "",
      });
    });
  } finally {
    budget.clear();
  }
}

/** A deadline each check races (none without `budgetMs`), and its timer's clearing. */
function budgetOf(budgetMs: number | undefined): {
  race: <T>(work: Promise<T>) => Promise<T>;
  clear: () => void;
} {
  if (budgetMs === undefined) return { race: (work) => work, clear: () => undefined };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new PostureBudgetExceeded(`not finished within the posture budget of ${budgetMs / 1000} s`)),
      budgetMs,
    );
  });
  // Every race handles it; this keeps a budget that expires with no race left from going unhandled.
  expired.catch(() => undefined);
  return { race: (work) => Promise.race([work, expired]), clear: () => clearTimeout(timer) };
}
