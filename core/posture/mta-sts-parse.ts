/**
 * The two MTA-STS texts (RFC 8461): the TXT record at _mta-sts.<domain> (§3.1) announcing a
 * policy and its id, and the policy file itself (§3.2), "key: value" lines; and how a policy's
 * mx: patterns match an MX host (§4.1).
 */

export type MtaStsMode = "enforce" | "testing" | "none";

export interface MtaStsPolicy {
  readonly version: "STSv1";
  readonly mode: MtaStsMode;
  /** Seconds a sender may cache the policy. */
  readonly maxAge: number;
  readonly mx: string[];
}

export type MtaStsParse<T> = { ok: true; value: T } | { ok: false; error: string };

/** The largest max_age, about one year (RFC 8461 §3.2). */
export const MAX_AGE_LIMIT = 31_557_600;

/** Whether a TXT string is offered as MTA-STS: senders discard any other (RFC 8461 §3.1). */
export const isMtaStsRecord = (text: string): boolean => /^v=STSv1\s*(;|$)/.test(text);

const EXTENSION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}=[\x21-\x3a\x3c\x3e-\x7e]+$/;

/** Parses the TXT record: v=STSv1 first, id= of 1 to 32 letters and digits, extensions allowed. */
export function parseMtaStsRecord(text: string): MtaStsParse<{ id: string }> {
  const fields = text.split(";").map((field) => field.trim());
  if (fields[fields.length - 1] === "") fields.pop();
  if (fields[0] !== "v=STSv1") return { ok: false, error: "the record must start with v=STSv1" };
  let id: string | undefined;
  for (const field of fields.slice(1)) {
    if (field.startsWith("id=")) {
      if (id !== undefined) return { ok: false, error: "id= appears more than once" };
      id = field.slice(3);
      if (!/^[A-Za-z0-9]{1,32}$/.test(id))
        return { ok: false, error: `id=${id} is not 1 to 32 letters and digits (RFC 8461 §3.1)` };
      continue;
    }
    if (!EXTENSION.test(field))
      return { ok: false, error: `"${field}" is not a name=value field (RFC 8461 §3.1)` };
  }
  if (id === undefined) return { ok: false, error: "the required field id= is missing (RFC 8461 §3.1)" };
  return { ok: true, value: { id } };
}

const MX_PATTERN = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{1,63}\.?$/;

/** Parses the policy file: LF or CRLF lines of "key: value"; unknown keys are ignored (§3.2). */
export function parseMtaStsPolicy(text: string): MtaStsParse<MtaStsPolicy> {
  const fail = (error: string): MtaStsParse<MtaStsPolicy> => ({ ok: false, error });
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const match = /^([A-Za-z0-9_.-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) return fail(`line ${index + 1} is not "key: value": "${line.slice(0, 80)}"`);
    const [, key = "", value = ""] = match;
    if (key === "mx") mx.push(value);
    // A repeated field: the first counts, as for most senders.
    else if (!fields.has(key)) fields.set(key, value);
  }
  const version = fields.get("version");
  if (version !== "STSv1")
    return fail(version === undefined ? "no version: field" : `version: ${version} is not STSv1`);
  const mode = fields.get("mode");
  if (mode !== "enforce" && mode !== "testing" && mode !== "none")
    return fail(mode === undefined ? "no mode: field" : `mode: ${mode} is not enforce, testing or none`);
  const maxAgeText = fields.get("max_age");
  if (maxAgeText === undefined) return fail("no max_age: field");
  const maxAge = /^\d{1,10}$/.test(maxAgeText) ? Number(maxAgeText) : Number.NaN;
  if (!(maxAge >= 0 && maxAge <= MAX_AGE_LIMIT))
    return fail(`max_age: ${maxAgeText} is not a whole number of seconds from 0 to ${MAX_AGE_LIMIT}`);
  const bad = mx.find((pattern) => !MX_PATTERN.test(pattern));
  if (bad !== undefined) return fail(`mx: ${bad} is not a host name or *.<domain> pattern (RFC 8461 §3.2)`);
  if (mode !== "none" && mx.length === 0) return fail(`mode: ${mode} needs at least one mx: line`);
  return {
    ok: true,
    value: { version, mode, maxAge, mx: mx.map((pattern) => pattern.toLowerCase().replace(/\.$/, "")) },
  };
}

/**
 * Whether an MX host matches a pattern (RFC 8461 §4.1): the same name, or for "*.<domain>" a
 * name exactly one label under <domain> ("*.example.com" matches mail.example.com, neither
 * example.com nor a.b.example.com).
 */
export function mxMatches(pattern: string, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  const wanted = pattern.toLowerCase().replace(/\.$/, "");
  if (!wanted.startsWith("*.")) return name === wanted;
  const parent = wanted.slice(2);
  const dot = name.indexOf(".");
  return dot > 0 && name.slice(dot + 1) === parent;
}
