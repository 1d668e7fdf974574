/**
 * The TLS-RPT record grammar (RFC 8460 §3): "v=TLSRPTv1" first, then fields separated by ";",
 * exactly one rua= with one or more comma-separated mailto: or https: URIs; extension fields
 * (a name and a value of visible characters) are allowed and ignored.
 */

export interface TlsRptRecord {
  readonly rua: string[];
}

export type TlsRptParse = { ok: true; record: TlsRptRecord } | { ok: false; error: string };

/** Whether a TXT string is offered as TLS-RPT: senders discard any other (RFC 8460 §3). */
export const isTlsRptRecord = (text: string): boolean => /^v=TLSRPTv1\s*(;|$)/.test(text);

const EXTENSION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}=[\x21-\x3a\x3c\x3e-\x7e]+$/;
const MAILTO = /^mailto:[^\s@,;!]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/i;

function uriError(uri: string): string | undefined {
  if (/^mailto:/i.test(uri)) return MAILTO.test(uri) ? undefined : `"${uri}" is no mailto: address`;
  if (/^https:/i.test(uri)) {
    try {
      const url = new URL(uri);
      return url.hostname === "" ? `"${uri}" names no host` : undefined;
    } catch {
      return `"${uri}" is no https: URL`;
    }
  }
  return `"${uri}" is neither mailto: nor https: (RFC 8460 §3)`;
}

/** Parses one TLS-RPT record; the first error names the field. */
export function parseTlsRpt(text: string): TlsRptParse {
  const fail = (error: string): TlsRptParse => ({ ok: false, error });
  const fields = text.split(";").map((field) => field.trim());
  if (fields[fields.length - 1] === "") fields.pop();
  if (fields[0] !== "v=TLSRPTv1") return fail("the record must start with v=TLSRPTv1");
  let rua: string[] | undefined;
  for (const field of fields.slice(1)) {
    if (field === "") return fail('an empty field (";;")');
    if (/^rua\s*=/i.test(field)) {
      if (rua) return fail("rua= appears more than once");
      const uris = field
        .replace(/^rua\s*=\s*/i, "")
        .split(",")
        .map((uri) => uri.trim());
      const error = uris.map(uriError).find((message) => message !== undefined);
      if (error) return fail(`rua=: ${error}`);
      rua = uris;
      continue;
    }
    if (!EXTENSION.test(field)) return fail(`"${field}" is not a name=value field (RFC 8460 §3)`);
  }
  if (!rua) return fail("the required field rua= is missing (RFC 8460 §3)");
  return { ok: true, record: { rua } };
}
