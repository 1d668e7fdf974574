import { organizationalDomain } from "./organizational-domain.ts";
/**
 * The DMARC record grammar (RFC 7489 §6.3, §6.4): "v=DMARC1" first, then tag=value pairs
 * separated by ";". p= is required; unknown tags are ignored (§6.3); every known tag's value
 * is checked, and the first that breaks the grammar is the error, named with its tag.
 */

export type DmarcPolicy = "none" | "quarantine" | "reject";
export type DmarcAlignment = "r" | "s";

export interface DmarcRecord {
  readonly p: DmarcPolicy;
  /** The subdomain policy; p when absent. */
  readonly sp: DmarcPolicy;
  readonly pct: number;
  readonly rua: string[];
  readonly ruf: string[];
  readonly adkim: DmarcAlignment;
  readonly aspf: DmarcAlignment;
}

export type DmarcParse = { ok: true; record: DmarcRecord } | { ok: false; error: string };

const POLICIES = new Set(["none", "quarantine", "reject"]);
/** A report URI (RFC 7489 §6.2): a URI, optionally "!" and a size limit with a unit. */
const REPORT_URI = /^[a-z][a-z0-9+.-]*:[^!,\s]+(![0-9]+[kmgt]?)?$/i;

/** Whether a TXT string is offered as DMARC: receivers discard any other (RFC 7489 §6.6.3). */
export const isDmarcRecord = (text: string): boolean => /^v\s*=\s*DMARC1\s*(;|$)/.test(text);

function reportUris(tag: string, value: string): string[] | string {
  const uris = value.split(",").map((uri) => uri.trim());
  const bad = uris.find((uri) => !REPORT_URI.test(uri));
  return bad === undefined ? uris : `${tag}= has a malformed URI "${bad}" (RFC 7489 §6.2)`;
}

/** Parses one DMARC record. */
export function parseDmarc(text: string): DmarcParse {
  const fail = (error: string): DmarcParse => ({ ok: false, error });
  const pairs = text
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "");
  const tags = new Map<string, string>();
  for (const [index, pair] of pairs.entries()) {
    const match = /^([a-z0-9]+)\s*=\s*(.*)$/i.exec(pair);
    if (!match) return fail(`"${pair}" is not a tag=value pair (RFC 7489 §6.4)`);
    const tag = (match[1] ?? "").toLowerCase();
    if (index === 0 && (tag !== "v" || match[2] !== "DMARC1"))
      return fail("the record must start with v=DMARC1");
    if (tags.has(tag)) return fail(`the tag ${tag}= appears more than once`);
    tags.set(tag, match[2] ?? "");
  }
  const p = tags.get("p");
  if (p === undefined) return fail("the required tag p= is missing (RFC 7489 §6.3)");
  if (!POLICIES.has(p)) return fail(`p=${p} is not none, quarantine or reject`);
  const sp = tags.get("sp") ?? p;
  if (!POLICIES.has(sp)) return fail(`sp=${sp} is not none, quarantine or reject`);
  const pctText = tags.get("pct") ?? "100";
  const pct = /^\d{1,3}$/.test(pctText) ? Number(pctText) : Number.NaN;
  if (!(pct >= 0 && pct <= 100)) return fail(`pct=${pctText} is not a whole number from 0 to 100`);
  const alignment: Record<string, DmarcAlignment> = {};
  for (const tag of ["adkim", "aspf"]) {
    const value = tags.get(tag) ?? "r";
    if (value !== "r" && value !== "s") return fail(`${tag}=${value} is not r (relaxed) or s (strict)`);
    alignment[tag] = value;
  }
  const rua = tags.has("rua") ? reportUris("rua", tags.get("rua") ?? "") : [];
  if (typeof rua === "string") return fail(rua);
  const ruf = tags.has("ruf") ? reportUris("ruf", tags.get("ruf") ?? "") : [];
  if (typeof ruf === "string") return fail(ruf);
  return {
    ok: true,
    record: {
      p: p as DmarcPolicy,
      sp: sp as DmarcPolicy,
      pct,
      rua,
      ruf,
      adkim: alignment.adkim ?? "r",
      aspf: alignment.aspf ?? "r",
    },
  };
}

/**
 * Identifier alignment (RFC 7489 §3.1): strict, the same name; relaxed, the same
 * organizational domain (§3.2, by the Public Suffix List), so siblings under one registered
 * domain align and two names under a public suffix do not.
 */
export function aligned(from: string, domain: string, mode: DmarcAlignment): boolean {
  const a = from.replace(/\.$/, "").toLowerCase();
  const b = domain.replace(/\.$/, "").toLowerCase();
  if (a === b) return true;
  return mode === "r" && organizationalDomain(a) === organizationalDomain(b);
}
