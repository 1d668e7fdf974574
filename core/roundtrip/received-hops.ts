import type { Hop } from "../ports/probe-store.ts";

/*
 * The path a probe took, read from its Received trace fields (RFC 5321 §4.4):
 *
 *   Received: from out.example.net (out.example.net [192.0.2.10])
 *           by mx1.example.com (Postfix) with ESMTPS id 4Sf0Q21234
 *           for <probe@mx1.example.com>; Tue, 28 Nov 2023 12:00:01 +0000 (UTC)
 *
 * Each host writes its own clock into its field, so the times are informational only.
 * MTAs write these fields loosely: whatever cannot be read stays undefined; nothing throws.
 */

/** RFC 5321 §6.3: a message with more than 100 Received fields is looping. */
const MAX_HOPS = 100;
/** The clause keywords of the Received syntax (RFC 5321 §4.4, RFC 5322 §3.6.7). */
const KEYWORDS = new Set(["from", "by", "via", "with", "id", "for"]);

/** One hop from the value of one Received field (unfolded or not). */
export function hopFromReceived(value: string): Hop {
  const text = withoutComments(value).replace(/\s+/g, " ");
  const semicolon = text.lastIndexOf(";");
  const clauses = semicolon < 0 ? text : text.slice(0, semicolon);
  const dateText = semicolon < 0 ? "" : text.slice(semicolon + 1).trim();
  const words = clauses.split(" ").filter((w) => w !== "");
  const found = new Map<string, string>();
  for (let i = 0; i < words.length; i += 1) {
    const keyword = (words[i] ?? "").toLowerCase();
    if (!KEYWORDS.has(keyword) || found.has(keyword)) continue;
    // The value runs to the next keyword: "with Microsoft SMTP Server id 15.20..." keeps all three words.
    let end = i + 1;
    while (end < words.length && !KEYWORDS.has((words[end] ?? "").toLowerCase())) end += 1;
    if (end > i + 1) found.set(keyword, words.slice(i + 1, end).join(" "));
    i = end - 1;
  }
  const atMs = dateText === "" ? Number.NaN : Date.parse(dateText);
  const hop: { from?: string; by?: string; with?: string; atMs?: number } = {};
  const from = found.get("from");
  const by = found.get("by");
  const protocol = found.get("with");
  if (from !== undefined) hop.from = from;
  if (by !== undefined) hop.by = by;
  if (protocol !== undefined) hop.with = protocol;
  if (Number.isFinite(atMs)) hop.atMs = atMs;
  return hop;
}

/**
 * The hops recorded in a header section (one entry per line, folding lines included), oldest
 * first. Each MTA prepends its Received field, so the section lists them newest first; only the
 * newest MAX_HOPS are read, because a sender can append fake ones below the real ones but
 * cannot push the real ones down.
 */
export function hopsFromHeaderLines(lines: readonly string[]): Hop[] {
  const received: string[] = [];
  let inReceived = false;
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      if (inReceived) received[received.length - 1] += ` ${line}`;
      continue;
    }
    inReceived = /^received[ \t]*:/i.test(line);
    if (inReceived) {
      if (received.length === MAX_HOPS) break;
      received.push(line.slice(line.indexOf(":") + 1));
    }
  }
  return received.map(hopFromReceived).reverse();
}

/** Removes RFC 5322 comments: "(...)", nested, with quoted pairs; an unclosed one runs to the end. */
function withoutComments(text: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (depth > 0 && char === "\\") {
      i += 1;
    } else if (char === "(") {
      depth += 1;
    } else if (char === ")" && depth > 0) {
      depth -= 1;
      if (depth === 0) out += " ";
    } else if (depth === 0) {
      out += char;
    }
  }
  return out;
}
