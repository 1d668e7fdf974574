import { describeError } from "../basics/describe-error.ts";
import { DnsQueryError } from "../dns/dns-errors.ts";
import { isEmptyAnswer, mxRecords } from "../dns/dns-records.ts";
import type { DnsRecordType, DnsResolver } from "../dns/dns-resolver.ts";
import { finding, type PostureFinding } from "./posture-result.ts";
import { fetchSpf } from "./spf-fetch.ts";
import { hasMacro, LOOKUP_MECHANISMS, type SpfRecord } from "./spf-parse.ts";

/** The limits of RFC 7208 §4.6.4: beyond them a receiver returns permerror. */
export const SPF_LOOKUP_LIMIT = 10;
export const SPF_VOID_LOOKUP_LIMIT = 2;
const MX_HOSTS_LIMIT = 10;

export interface SpfWalk {
  /** DNS-querying terms (include, a, mx, ptr, exists, redirect) across every include and redirect. */
  lookups: number;
  /** Lookups that found nothing (NXDOMAIN or no records). */
  voidLookups: number;
  /** The domains included or redirected to, in the order met. */
  followed: string[];
  /** Terms whose target has macros: counted, not followed. */
  notFollowed: string[];
  findings: PostureFinding[];
}

/**
 * Walks a record and everything it includes or redirects to, counting the terms that query
 * DNS the way RFC 7208 §4.6.4 counts them. Every term is counted, not only those a given
 * sender would reach: the limit must hold for every sender. Stops following past the limit.
 */
export async function walkSpf(resolver: DnsResolver, domain: string, record: SpfRecord): Promise<SpfWalk> {
  const walk: SpfWalk = { lookups: 0, voidLookups: 0, followed: [], notFollowed: [], findings: [] };
  await visit(resolver, domain, record, walk);
  return walk;
}

async function isVoid(
  resolver: DnsResolver,
  name: string,
  types: DnsRecordType[],
  walk: SpfWalk,
): Promise<boolean> {
  try {
    const answers = await Promise.all(types.map((type) => resolver.query(name, type)));
    return answers.every(isEmptyAnswer);
  } catch (error) {
    if (!(error instanceof DnsQueryError)) throw error;
    walk.findings.push(finding("dns-error", describeError(error)));
    return false;
  }
}

async function follow(resolver: DnsResolver, term: string, target: string, walk: SpfWalk): Promise<void> {
  walk.followed.push(target);
  const found = await fetchSpf(resolver, target);
  switch (found.kind) {
    case "record":
      return visit(resolver, target, found.record, walk);
    case "none":
      if (found.void || found.nxdomain) walk.voidLookups += 1;
      walk.findings.push(
        finding("spf-syntax", `${term}: ${target} has no SPF record (permerror, RFC 7208 §5.2)`),
      );
      return;
    case "multiple":
      walk.findings.push(finding("spf-multiple", `${term}: ${target} has ${found.texts.length} SPF records`));
      return;
    case "syntax":
      walk.findings.push(finding("spf-syntax", `${term}: ${target}'s record: ${found.error}`));
      return;
    case "dns-error":
      walk.findings.push(finding("dns-error", found.message));
  }
}

async function visit(resolver: DnsResolver, domain: string, record: SpfRecord, walk: SpfWalk): Promise<void> {
  const hasAll = record.mechanisms.some((mechanism) => mechanism.kind === "all");
  for (const mechanism of record.mechanisms) {
    if (!LOOKUP_MECHANISMS.includes(mechanism.kind)) continue;
    walk.lookups += 1;
    if (walk.lookups > SPF_LOOKUP_LIMIT) return;
    const target = mechanism.domain ?? domain;
    if (hasMacro(target)) {
      walk.notFollowed.push(mechanism.text);
      continue;
    }
    if (mechanism.kind === "include") await follow(resolver, mechanism.text, target, walk);
    if (mechanism.kind === "a" && (await isVoid(resolver, target, ["A", "AAAA"], walk)))
      walk.voidLookups += 1;
    if (mechanism.kind === "exists" && (await isVoid(resolver, target, ["A"], walk))) walk.voidLookups += 1;
    if (mechanism.kind === "mx") await countMx(resolver, mechanism.text, target, walk);
    // ptr needs the sender's address to query anything: counted, never followed.
  }
  // redirect= is ignored when the record has an all mechanism (RFC 7208 §6.1).
  if (record.redirect !== undefined && !hasAll) {
    walk.lookups += 1;
    if (walk.lookups > SPF_LOOKUP_LIMIT) return;
    if (hasMacro(record.redirect)) walk.notFollowed.push(`redirect=${record.redirect}`);
    else await follow(resolver, `redirect=${record.redirect}`, record.redirect, walk);
  }
}

/** mx: void when the target has no MX; more than 10 MX hosts is a permerror of its own (RFC 7208 §4.6.4). */
async function countMx(resolver: DnsResolver, term: string, target: string, walk: SpfWalk): Promise<void> {
  let count: number;
  try {
    count = mxRecords(await resolver.query(target, "MX")).length;
  } catch (error) {
    if (!(error instanceof DnsQueryError)) throw error;
    walk.findings.push(finding("dns-error", describeError(error)));
    return;
  }
  if (count === 0) walk.voidLookups += 1;
  if (count > MX_HOSTS_LIMIT) {
    walk.findings.push(
      finding("spf-too-many-lookups", `${term}: ${target} has ${count} MX hosts, over 10 (RFC 7208 §4.6.4)`),
    );
  }
}
