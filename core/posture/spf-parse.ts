import { isIPv4, isIPv6 } from "node:net";

/**
 * The SPF record grammar (RFC 7208 §4.6.1, §5, §6) as data: a record is "v=spf1" and terms
 * separated by spaces; a term is a directive (optional qualifier, mechanism) or a modifier
 * (name=value). Anything else is a permerror, named here with the term that broke it.
 */

export type SpfQualifier = "+" | "-" | "~" | "?";

/** Mechanisms in RFC 7208 §5; the ones that query DNS count toward the limit of 10 (§4.6.4). */
export const SPF_MECHANISMS = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"] as const;
export type SpfMechanismKind = (typeof SPF_MECHANISMS)[number];
export const LOOKUP_MECHANISMS: readonly SpfMechanismKind[] = ["include", "a", "mx", "ptr", "exists"];

export interface SpfMechanism {
  readonly qualifier: SpfQualifier;
  readonly kind: SpfMechanismKind;
  /** include/exists (required), a/mx/ptr (optional): the domain-spec as written. */
  readonly domain?: string;
  /** ip4/ip6: the address; with `prefix` the network. */
  readonly address?: string;
  /** ip4, ip6 and a/mx's IPv4 prefix length ("/24"). */
  readonly prefix4?: number;
  /** ip6's and a/mx's IPv6 prefix length ("//64"). */
  readonly prefix6?: number;
  readonly text: string;
}

export interface SpfRecord {
  readonly mechanisms: SpfMechanism[];
  readonly redirect?: string;
  readonly exp?: string;
}

export type SpfParse = { ok: true; record: SpfRecord } | { ok: false; error: string };

const QUALIFIERS = new Set(["+", "-", "~", "?"]);
const MODIFIER = /^([a-z][a-z0-9_.-]*)=(.*)$/i;
/** domain-spec (RFC 7208 §7.1): macros allowed; a name ending in a macro expand or a toplabel. */
const DOMAIN_SPEC = /^[\x21-\x7e]+$/;
const MACRO = /%(\{[slodiphcrtv]\d*r?[-.+,/_=]*\}|%|_|-)/gi;

/** Whether a TXT string is an SPF record: "v=spf1" alone or followed by a space (RFC 7208 §4.5). */
export const isSpfRecord = (text: string): boolean => /^v=spf1( |$)/i.test(text);

/** A domain-spec that uses macros cannot be evaluated without the message's facts. */
export const hasMacro = (domain: string): boolean => domain.includes("%");

function validDomainSpec(spec: string): string | undefined {
  if (!DOMAIN_SPEC.test(spec)) return "has characters outside visible ASCII";
  const withoutMacros = spec.replace(MACRO, "x");
  if (withoutMacros.includes("%")) return "has a malformed macro (RFC 7208 §7.1)";
  if (hasMacro(spec)) return undefined;
  const labels = spec.replace(/\.$/, "").split(".");
  if (labels.length < 2 || labels.some((label) => label.length === 0 || label.length > 63)) {
    return "is not a domain name with at least two labels";
  }
  return undefined;
}

function parsePrefix(text: string, max: number): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max && !(text.length > 1 && text.startsWith("0")) ? value : undefined;
}

function parseMechanism(term: string): SpfMechanism | string {
  const qualifier = (QUALIFIERS.has(term[0] ?? "") ? term[0] : "+") as SpfQualifier;
  const body = QUALIFIERS.has(term[0] ?? "") ? term.slice(1) : term;
  const match = /^([a-z0-9]+)(?::(.*?))?((?:\/\d*)?(?:\/\/\d*)?)$/i.exec(body);
  const kind = match?.[1]?.toLowerCase() as SpfMechanismKind | undefined;
  if (!match || !kind || !SPF_MECHANISMS.includes(kind)) return `unknown mechanism "${term}" (RFC 7208 §5)`;
  const argument = match[2];
  const cidr = match[3] ?? "";
  const base = { qualifier, kind, text: term };
  if (kind === "ip4" || kind === "ip6") {
    const [address, prefix, extra] = `${argument ?? ""}${cidr}`.split("/");
    const valid = kind === "ip4" ? isIPv4(address ?? "") : isIPv6(address ?? "");
    if (!valid || extra !== undefined)
      return `"${term}" needs ${kind === "ip4" ? "an IPv4" : "an IPv6"} network (RFC 7208 §5.6)`;
    if (prefix === undefined) return { ...base, address };
    const length = parsePrefix(prefix, kind === "ip4" ? 32 : 128);
    if (length === undefined) return `"${term}" has a bad prefix length (RFC 7208 §5.6)`;
    return kind === "ip4" ? { ...base, address, prefix4: length } : { ...base, address, prefix6: length };
  }
  if (kind === "all") {
    return argument === undefined && cidr === "" ? base : `"${term}" takes no argument (RFC 7208 §5.1)`;
  }
  if ((kind === "include" || kind === "exists") && !argument)
    return `"${term}" needs a domain (RFC 7208 §5.2, §5.7)`;
  if (argument !== undefined) {
    const problem = validDomainSpec(argument);
    if (problem) return `"${term}": the domain ${problem}`;
  }
  const prefixes: { prefix4?: number; prefix6?: number } = {};
  if (cidr !== "") {
    if (kind !== "a" && kind !== "mx") return `"${term}" takes no prefix length (RFC 7208 §5)`;
    const dual = /^(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(cidr);
    const p4 = dual?.[1] === undefined ? undefined : parsePrefix(dual[1], 32);
    const p6 = dual?.[2] === undefined ? undefined : parsePrefix(dual[2], 128);
    if (!dual || (dual[1] !== undefined && p4 === undefined) || (dual[2] !== undefined && p6 === undefined)) {
      return `"${term}" has a bad prefix length (RFC 7208 §5.6)`;
    }
    if (p4 !== undefined) prefixes.prefix4 = p4;
    if (p6 !== undefined) prefixes.prefix6 = p6;
  }
  return { ...base, ...(argument === undefined ? {} : { domain: argument }), ...prefixes };
}

/** Parses one SPF record; the first term that breaks the grammar is the error. */
export function parseSpf(text: string): SpfParse {
  if (!isSpfRecord(text)) return { ok: false, error: 'the record does not start with "v=spf1"' };
  const terms = text
    .slice("v=spf1".length)
    .split(" ")
    .filter((term) => term !== "");
  const mechanisms: SpfMechanism[] = [];
  let redirect: string | undefined;
  let exp: string | undefined;
  for (const term of terms) {
    const modifier = MODIFIER.exec(term);
    if (modifier) {
      const name = (modifier[1] ?? "").toLowerCase();
      const value = modifier[2] ?? "";
      if (name !== "redirect" && name !== "exp") continue; // unknown modifiers are ignored (RFC 7208 §6)
      if ((name === "redirect" && redirect !== undefined) || (name === "exp" && exp !== undefined)) {
        return { ok: false, error: `"${name}=" appears more than once (RFC 7208 §6)` };
      }
      const problem = validDomainSpec(value);
      if (problem) return { ok: false, error: `"${term}": the domain ${problem}` };
      if (name === "redirect") redirect = value;
      else exp = value;
      continue;
    }
    const mechanism = parseMechanism(term);
    if (typeof mechanism === "string") return { ok: false, error: mechanism };
    mechanisms.push(mechanism);
  }
  return {
    ok: true,
    record: {
      mechanisms,
      ...(redirect === undefined ? {} : { redirect }),
      ...(exp === undefined ? {} : { exp }),
    },
  };
}
