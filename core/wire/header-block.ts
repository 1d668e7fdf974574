/*
 * How the probe's header block travels in the body of a return, so the monitor gets back
 * exactly the lines the server received:
 *
 *   ----- probe header block -----
 *   <one body line per received header line, folding lines included>
 *   ----- end -----
 *
 * SMTP forbids lines over 998 characters (RFC 5321 §4.5.3.1.6) and relaying MTAs fold them,
 * so a line longer than WRAP_AT is cut: its first WRAP_AT characters stay on the line, each
 * further piece goes on a line of its own starting "\+". A received line that itself starts
 * with "\" or "-----" gets one "\" in front, so neither a piece nor the end marker can be
 * faked by what the message contained. decodeHeaderBlock undoes both.
 */

export const HEADER_BLOCK_BEGIN = "----- probe header block -----";
export const HEADER_BLOCK_END = "----- end -----";
export const WRAP_AT = 900;
const PIECE = "\\+";

/** The body lines for `lines` (already 7-bit ASCII), markers included. */
export function encodeHeaderBlock(lines: readonly string[]): string[] {
  const out = [HEADER_BLOCK_BEGIN];
  for (const line of lines) {
    const escaped = line.startsWith("\\") || line.startsWith("-----") ? `\\${line}` : line;
    out.push(escaped.slice(0, WRAP_AT));
    for (let at = WRAP_AT; at < escaped.length; at += WRAP_AT) {
      out.push(`${PIECE}${escaped.slice(at, at + WRAP_AT)}`);
    }
  }
  out.push(HEADER_BLOCK_END);
  return out;
}

/** The header lines carried in a return's body, or undefined when it has no complete block. */
export function decodeHeaderBlock(body: string): string[] | undefined {
  const lines = body.split(/\r?\n/);
  const begin = lines.indexOf(HEADER_BLOCK_BEGIN);
  if (begin < 0) return undefined;
  const out: string[] = [];
  for (const line of lines.slice(begin + 1)) {
    if (line === HEADER_BLOCK_END) return out;
    if (line.startsWith(PIECE) && out.length > 0) {
      out[out.length - 1] += line.slice(PIECE.length);
    } else {
      out.push(line.startsWith("\\") ? line.slice(1) : line);
    }
  }
  return undefined;
}
