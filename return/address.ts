/*
 * A deliberately narrow address check: a bare dot-atom local part @ a hostname. email_return
 * only puts configured or checked addresses into headers and sendmail's argv, so anything
 * that could carry a newline, a comment, a second address or an option ("-f...") is refused.
 */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const PLAIN_ADDRESS = new RegExp(`^(?!-)${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})*$`);

/** True for `local@host.example` with nothing around it (at most 254 characters, RFC 5321). */
export function isPlainAddress(text: string): boolean {
  return text.length <= 254 && PLAIN_ADDRESS.test(text);
}

/** The first plain address in a header value such as `"Probe" <probe@x.example>`, if any. */
export function firstAddressIn(headerValue: string): string | undefined {
  const bracketed = /<([^<>\s]+)>/.exec(headerValue)?.[1];
  const candidates = bracketed !== undefined ? [bracketed] : headerValue.split(/[\s,;]+/);
  return candidates.find(isPlainAddress);
}
