/*
 * One Authentication-Results field (RFC 8601 §2.2), read leniently and never thrown on:
 *
 *   Authentication-Results: mx.example.com 1; spf=pass smtp.mailfrom=example.net;
 *        dkim=pass (2048-bit key) header.d=example.net header.s=s1;
 *        dmarc=fail reason="policy" (p=REJECT dis=NONE) header.from=example.net
 *
 * Microsoft 365 writes no authserv-id at all ("spf=pass (sender IP is ...) smtp.mailfrom=...;
 * dkim=none ..."): such a field is read with `authservId` undefined, and the caller decides
 * whether to count it.
 */

/** Result keywords each method may give: RFC 8601 §2.7, RFC 7489 §11.2 (dmarc), RFC 8617 §7.2 (arc). */
export const METHOD_RESULTS = {
  spf: ["none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", "policy"],
  dkim: ["none", "pass", "fail", "policy", "neutral", "temperror", "permerror"],
  dmarc: ["none", "pass", "fail", "temperror", "permerror"],
  arc: ["none", "pass", "fail"],
} as const;

export type VerdictMethod = keyof typeof METHOD_RESULTS;

/** One "method=result" clause of the field. */
export interface MethodResult {
  /** Lower case, without a method version ("dkim", "spf", "compauth"). */
  readonly method: string;
  /** Lower case, as written. */
  readonly result: string;
  /**
   * The reasonspec ("reason=...") with a policy comment after it in parentheses, or else the
   * first comment, which is where receivers say why.
   */
  readonly reason?: string;
  /** ptype.property -> value, e.g. "header.d" -> "example.net". */
  readonly properties: Readonly<Record<string, string>>;
}

export interface AuthenticationResults {
  /** Lower case; undefined when the field names none (Microsoft 365). */
  readonly authservId?: string;
  readonly results: readonly MethodResult[];
  /** What could not be read, one line each; the rest of the field still counts. */
  readonly problems: readonly string[];
}

const KEYWORD = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
/** RFC 2045 token characters, and the dots of a host name. */
const TOKEN = /^[!#-'*+.0-9A-Z^-~-]+$/;
/** A word: runs of non-space and quoted strings, with "a = b" and "a . b" joined. */
const WORD = /(?:[^\s"=/.]|"(?:[^"\\]|\\.)*"?|\s*[=/.]\s*)+/g;
const MAX_RESULTS = 50;
const MAX_VALUE_CHARS = 200;

/** Reads one field's value (unfolded or not). */
export function parseAuthenticationResults(value: string): AuthenticationResults {
  const problems: string[] = [];
  const segments = splitSegments(value);
  const first = segments[0];
  if (first === undefined || first.words.length === 0) {
    return { results: [], problems: ["no authserv-id and no results"] };
  }
  let authservId: string | undefined;
  let resultSegments = segments.slice(1);
  if (first.words[0]?.includes("=")) {
    resultSegments = segments;
  } else {
    const id = unquote(first.words[0] ?? "");
    if (TOKEN.test(id)) authservId = id.toLowerCase();
    else problems.push(`authserv-id ${show(id)} is not a token`);
    const version = first.words[1];
    if (version !== undefined && version !== "1") problems.push(`unknown version ${show(version)}`);
  }
  const results: MethodResult[] = [];
  for (const segment of resultSegments) {
    if (segment.words.length === 0) continue;
    if (segment.words.length === 1 && segment.words[0]?.toLowerCase() === "none") continue;
    const parsed = methodResult(segment);
    if (typeof parsed === "string") problems.push(parsed);
    else if (results.length < MAX_RESULTS) results.push(parsed);
  }
  return { ...(authservId !== undefined && { authservId }), results, problems };
}

function methodResult(segment: Segment): MethodResult | string {
  const [spec, ...rest] = segment.words;
  const equals = spec?.indexOf("=") ?? -1;
  if (spec === undefined || equals <= 0) return `not a method=result: ${show(spec ?? "")}`;
  const method = (spec.slice(0, equals).split("/")[0] ?? "").toLowerCase();
  const result = spec.slice(equals + 1).toLowerCase();
  if (!KEYWORD.test(method)) return `bad method name ${show(method)}`;
  if (!KEYWORD.test(result)) return `${method}: bad result ${show(result)}`;
  const known = (METHOD_RESULTS as Record<string, readonly string[]>)[method];
  if (known !== undefined && !known.includes(result)) return `${method}: unknown result ${show(result)}`;
  const properties: Record<string, string> = {};
  let reason: string | undefined;
  // Words that are neither a reason nor a property, such as Microsoft's "action=quarantine".
  const others: string[] = [];
  for (const word of rest) {
    const at = word.indexOf("=");
    if (at <= 0) continue;
    const key = word.slice(0, at).toLowerCase();
    const text = clip(unquote(word.slice(at + 1)));
    if (key === "reason") reason = text;
    else if (key.includes(".")) properties[key] = text;
    else if (KEYWORD.test(key)) others.push(`${key}=${text}`);
  }
  // A reasonspec keeps a policy comment beside it: rspamd puts the DMARC policy there
  // ('reason="No valid SPF, No valid DKIM" ... (policy=reject)'); other comments (OpenDKIM's
  // "2048-bit key; unprotected") say nothing about why.
  const policy = segment.comments.filter((comment) => /\b(policy|p)=/i.test(comment));
  if (reason !== undefined && policy.length > 0) reason = clip(`${reason} (${policy.join("; ")})`);
  reason ??= segment.comments[0] ?? (others.length > 0 ? clip(others.join(" ")) : undefined);
  return { method, result, ...(reason !== undefined && { reason }), properties };
}

interface Segment {
  /** Words outside comments; "a = b" is one word "a=b"; quoted strings kept with their quotes. */
  readonly words: string[];
  readonly comments: string[];
}

/** Splits at ";" outside quotes and comments, dropping comments (RFC 5322 §3.2.2) into their own list. */
function splitSegments(value: string): Segment[] {
  const segments: { text: string; comments: string[] }[] = [{ text: "", comments: [] }];
  let depth = 0;
  let comment = "";
  let quoted = false;
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] ?? "";
    const current = segments[segments.length - 1] as { text: string; comments: string[] };
    if (depth > 0) {
      if (char === "\\") {
        comment += value[i + 1] ?? "";
        i += 1;
      } else if (char === "(") {
        depth += 1;
        comment += char;
      } else if (char === ")") {
        depth -= 1;
        if (depth === 0) {
          const text = comment.replace(/\s+/g, " ").trim();
          if (text !== "") current.comments.push(clip(text));
          comment = "";
          current.text += " ";
        } else {
          comment += char;
        }
      } else {
        comment += char;
      }
    } else if (quoted) {
      current.text += char;
      if (char === "\\") {
        current.text += value[i + 1] ?? "";
        i += 1;
      } else if (char === '"') {
        quoted = false;
      }
    } else if (char === '"') {
      quoted = true;
      current.text += char;
    } else if (char === "(") {
      depth = 1;
    } else if (char === ";") {
      segments.push({ text: "", comments: [] });
    } else {
      current.text += char;
    }
  }
  return segments.map(({ text, comments }) => ({
    words: (text.match(WORD) ?? []).map((word) => word.replace(/\s*([=/.])\s*/g, "$1")),
    comments,
  }));
}

function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    return text.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return text;
}

function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length <= MAX_VALUE_CHARS ? printable : `${printable.slice(0, MAX_VALUE_CHARS - 3)}...`;
}

function show(text: string): string {
  return JSON.stringify(clip(text).slice(0, 60));
}
