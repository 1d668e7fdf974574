/** One header field: the name as written, the value unfolded (line breaks removed) and trimmed. */
export interface HeaderField {
  name: string;
  value: string;
}

/** The start of a delivered message, split the way email_return needs it. */
export interface ParsedMessage {
  /** The envelope sender from an mbox `From sender date` first line, when there was one. */
  mboxSender?: string;
  /** The header block as received, one entry per line, line ends removed, From_ line excluded. */
  headerLines: string[];
  fields: HeaderField[];
  /** False when the input ended (or was cut at maxBytes) before the blank line after the headers. */
  complete: boolean;
}

// RFC 5322 §3.6.8: a field name is printable US-ASCII except ":".
const FIELD = /^([!-9;-~]+)[ \t]*:(.*)$/s;

/**
 * A minimal RFC 5322 header block parser. The bytes are read as latin1 so each byte stays one
 * character: nothing is lost or merged before the reply decides what to do with 8-bit bytes.
 * Accepts LF and CRLF line ends and an optional mbox From_ line (what a Postfix pipe adds).
 */
export function parseMessage(data: Buffer): ParsedMessage {
  const lines = data.toString("latin1").split("\n");
  const message: ParsedMessage = { headerLines: [], fields: [], complete: false };
  let index = 0;
  const first = lines[0] ?? "";
  if (first.startsWith("From ")) {
    message.mboxSender = /^From (\S*)/.exec(first)?.[1] ?? "";
    index = 1;
  }
  for (; index < lines.length; index += 1) {
    const line = (lines[index] ?? "").replace(/\r$/, "");
    if (line === "") {
      // A trailing "" after the last "\n" of an input cut inside the headers is not the end.
      if (index < lines.length - 1) message.complete = true;
      break;
    }
    message.headerLines.push(line);
    const last = message.fields.at(-1);
    if (/^[ \t]/.test(line)) {
      // Unfolding (RFC 5322 §2.2.3): the line break goes, the whitespace stays.
      if (last !== undefined) last.value = `${last.value}${line}`;
      continue;
    }
    const match = FIELD.exec(line);
    // A line that is neither a field nor a continuation is kept in headerLines, not parsed.
    if (match !== null) message.fields.push({ name: match[1] ?? "", value: match[2] ?? "" });
  }
  for (const field of message.fields) field.value = field.value.trim();
  return message;
}

/** The value of the first field called `name` (case-insensitive), if any. */
export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === wanted)?.value;
}
