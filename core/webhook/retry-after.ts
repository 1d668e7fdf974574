/**
 * A Retry-After header (RFC 9110 section 10.2.3) as ms from now: either delay-seconds or an
 * HTTP date. Undefined when absent or unreadable, so the usual backoff applies instead.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names its day or month; this keeps Date.parse from reading "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
