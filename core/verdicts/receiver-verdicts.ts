import { type HeaderField, parseMessage } from "../wire/parse-headers.ts";
import {
  type AuthenticationResults,
  METHOD_RESULTS,
  type MethodResult,
  parseAuthenticationResults,
  type VerdictMethod,
} from "./authentication-results.ts";
import { type SpamVerdict, spamVerdicts } from "./spam-headers.ts";

/*
 * What the receiving side said about a delivered probe, read from the header block it received
 * (email_return's reply in `.forward` mode, the fetched message in fetch mode).
 *
 * Which Authentication-Results fields count (RFC 8601 §5: a reader trusts only fields from
 * authentication services it knows, and only ones added after the message entered its domain):
 * 1. the authserv-id is one the target trusts: equal to a trusted name, or a subdomain of one
 *    ("mx1.example.com" under "example.com"); "(none)" in the list counts fields that name no
 *    authserv-id at all, which is how Microsoft 365 writes them;
 * 2. the field sits above the sending point. Fields are prepended on the way, so everything at
 *    or below the probe's own X-Scout-Probe field was in the probe when it left the monitor.
 *    When the receiver's entry is visible (the oldest Received field whose "by" host is
 *    trusted), the sending point moves up to the Received field just below that entry: what
 *    lies below it was written before the receiver had the message. Fields between the entry
 *    and that one still count, because Gmail writes its Authentication-Results there.
 * Everything else is counted in `ignoredAuthResults`, never used.
 */

/** The value in receiverAuthservIds that accepts fields without an authserv-id. */
export const NO_AUTHSERV_ID = "(none)";

export interface AuthVerdict {
  /** The method's result keyword, lower case (pass, fail, softfail, none, ...). */
  readonly result: string;
  /** Why, as the receiver put it (reason= or its comment), e.g. "p=REJECT sp=REJECT dis=NONE". */
  readonly reason?: string;
  /** The domain it is about: smtp.mailfrom (spf), header.d (dkim), header.from (dmarc). */
  readonly domain?: string;
}

/** Where a fetched probe was found (fetch mode); `.forward` returns cannot say. */
export interface LandingFolder {
  /** The mailbox name as the server lists it, e.g. "INBOX" or "Junk E-mail". */
  readonly name: string;
  /** The folder is the junk folder (RFC 6154 \\Junk, or the configured name). */
  readonly junk: boolean;
}

export interface ReceiverVerdicts {
  /** Fetch mode: the folder the probe landed in, added by the fetcher to what the header says. */
  readonly folder?: LandingFolder;
  /** The authserv-id of the newest counted Authentication-Results field ("(none)" when it named none). */
  readonly authservId?: string;
  readonly spf?: AuthVerdict;
  readonly dkim?: AuthVerdict;
  readonly dmarc?: AuthVerdict;
  readonly arc?: AuthVerdict;
  /** One entry per spam filter that left its fields. */
  readonly spam: readonly SpamVerdict[];
  /** Authentication-Results fields not counted: in the probe as sent, or from another service. */
  readonly ignoredAuthResults: number;
  /** What could not be read in counted fields, one line each. */
  readonly problems: readonly string[];
}

export interface VerdictOptions {
  /** Authserv-ids (and domains whose subdomains) the receiver stamps; NO_AUTHSERV_ID for none. */
  readonly trustedAuthservIds: readonly string[];
}

const PROBE_FIELD = "x-scout-probe";
const DOMAIN_PROPERTY: Readonly<Record<VerdictMethod, readonly string[]>> = {
  spf: ["smtp.mailfrom", "smtp.helo"],
  dkim: ["header.d", "header.i"],
  dmarc: ["header.from"],
  arc: [],
};
const MAX_PROBLEMS = 10;

/** The receiver's verdicts from a header block (one entry per line, folding lines included). */
export function receiverVerdicts(headerLines: readonly string[], options: VerdictOptions): ReceiverVerdicts {
  const { fields } = parseMessage(Buffer.from(`${headerLines.join("\n")}\n\n`, "latin1"));
  const trusted = options.trustedAuthservIds.map((id) => id.toLowerCase().replace(/\.$/, ""));
  const sendingPoint = sendingPointOf(fields, trusted);
  const counted: AuthenticationResults[] = [];
  let ignoredAuthResults = 0;
  fields.forEach((field, index) => {
    if (field.name.toLowerCase() !== "authentication-results") return;
    const parsed = parseAuthenticationResults(field.value);
    if (index < sendingPoint && isTrusted(parsed.authservId ?? NO_AUTHSERV_ID, trusted)) counted.push(parsed);
    else ignoredAuthResults += 1;
  });
  const verdicts: { -readonly [K in keyof ReceiverVerdicts]: ReceiverVerdicts[K] } = {
    spam: spamVerdicts(fields),
    ignoredAuthResults,
    problems: counted.flatMap((field) => field.problems).slice(0, MAX_PROBLEMS),
  };
  const newest = counted[0];
  if (newest !== undefined) verdicts.authservId = newest.authservId ?? NO_AUTHSERV_ID;
  const results = counted.flatMap((field) => field.results);
  for (const method of Object.keys(METHOD_RESULTS) as VerdictMethod[]) {
    const verdict = methodVerdict(method, results);
    if (verdict !== undefined) verdicts[method] = verdict;
  }
  if (verdicts.spf === undefined) {
    const spf = receivedSpf(fields.slice(0, sendingPoint));
    if (spf !== undefined) verdicts.spf = spf;
  }
  return verdicts;
}

/** The verdicts of a fetched probe: what its header says, and the folder it was found in. */
export function fetchedVerdicts(
  headerLines: readonly string[],
  folder: LandingFolder,
  options: VerdictOptions,
): ReceiverVerdicts {
  return { folder, ...receiverVerdicts(headerLines, options) };
}

/** True when the receiver said anything: a counted Authentication-Results, a spam verdict, or a folder. */
export function receiverSpoke(verdicts: ReceiverVerdicts): boolean {
  const { authservId, spf, dkim, dmarc, arc, spam, folder } = verdicts;
  return [authservId, spf, dkim, dmarc, arc, folder].some((fact) => fact !== undefined) || spam.length > 0;
}

/** True when the receiver filed the probe as spam by any filter's word. */
export function judgedSpam(verdicts: Pick<ReceiverVerdicts, "spam">): boolean {
  return verdicts.spam.some((spam) => spam.verdict === "spam");
}

/** Fields at or past this index (newest first) were written before the receiver had the probe. */
function sendingPointOf(fields: readonly HeaderField[], trusted: readonly string[]): number {
  const probeAt = fields.findIndex((field) => field.name.toLowerCase() === PROBE_FIELD);
  const end = probeAt < 0 ? fields.length : probeAt;
  let entry = -1;
  for (let index = 0; index < end; index += 1) {
    const field = fields[index] as HeaderField;
    if (field.name.toLowerCase() !== "received") continue;
    const by = /\bby\s+([A-Za-z0-9.-]+)/i.exec(withoutComments(field.value))?.[1];
    if (by !== undefined && isTrusted(by, trusted)) entry = index;
  }
  if (entry < 0) return end;
  for (let index = entry + 1; index < end; index += 1) {
    if (fields[index]?.name.toLowerCase() === "received") return index;
  }
  return end;
}

function isTrusted(id: string, trusted: readonly string[]): boolean {
  const name = id.toLowerCase().replace(/\.$/, "");
  return trusted.some((entry) => name === entry || (entry !== NO_AUTHSERV_ID && name.endsWith(`.${entry}`)));
}

/**
 * The newest result of a method; for DKIM a message may carry several signatures, and one that
 * passes is what DMARC can use, so a pass anywhere wins.
 */
function methodVerdict(method: VerdictMethod, results: readonly MethodResult[]): AuthVerdict | undefined {
  const own = results.filter((result) => result.method === method);
  const chosen = (method === "dkim" ? own.find((result) => result.result === "pass") : undefined) ?? own[0];
  if (chosen === undefined) return undefined;
  const domainText = DOMAIN_PROPERTY[method]
    .map((property) => chosen.properties[property])
    .find((value) => value !== undefined);
  const domain = domainText?.replace(/^.*@/, "");
  return {
    result: chosen.result,
    ...(chosen.reason !== undefined && { reason: chosen.reason }),
    ...(domain !== undefined && domain !== "" && { domain }),
  };
}

/** RFC 7208 §9.1 "Received-SPF: pass (...) ..." fields, for receivers that write no A-R for SPF. */
function receivedSpf(fields: readonly HeaderField[]): AuthVerdict | undefined {
  const value = fields.find((field) => field.name.toLowerCase() === "received-spf")?.value;
  const result = value === undefined ? undefined : /^\s*([A-Za-z]+)/.exec(value)?.[1]?.toLowerCase();
  if (result === undefined || !(METHOD_RESULTS.spf as readonly string[]).includes(result)) return undefined;
  const domain = /envelope-from=("?)[^\s;"]*@([A-Za-z0-9.-]+)\1/i.exec(value ?? "")?.[2];
  return { result, ...(domain !== undefined && { domain }) };
}

function withoutComments(text: string): string {
  let out = "";
  let depth = 0;
  for (const char of text) {
    if (char === "(") depth += 1;
    else if (char === ")" && depth > 0) depth -= 1;
    else if (depth === 0) out += char;
  }
  return out;
}
