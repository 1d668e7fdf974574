import { encodeHeaderBlock } from "../core/wire/header-block.ts";
import { headerValue, type ParsedMessage } from "../core/wire/parse-headers.ts";
import type { ProbeKey } from "../core/wire/probe-key.ts";
import type { VerifiedToken } from "../core/wire/probe-token.ts";
import { REPLY_HEADER, signReply } from "../core/wire/reply-signature.ts";
import { firstAddressIn, isPlainAddress } from "./address.ts";

/** 2: the reply is signed (X-Scout-Reply, core/wire/reply-signature.ts); 1 was unsigned. */
export const RETURN_VERSION = "2";

export interface ReplyInput {
  returnTo: string;
  from: string;
  token: VerifiedToken;
  /** When the message reached this server, UTC ms (informational: this clock may be off). */
  arrivedAtMs: number;
  message: ParsedMessage;
  /** The key the probe's token names: signs the reply (key id, probe id, arrival time, reported header block). */
  key: ProbeKey;
  /** The header block was cut at maxBytes before its end. */
  headerBlockCut: boolean;
  now: Date;
  hostname: string;
  /** Random, unique: the left part of the reply's Message-ID. */
  uniqueId: string;
}

/** The reply as sendmail reads it on stdin: LF line ends, 7-bit ASCII. Pure. */
export function composeReply(input: ReplyInput): string {
  const { message } = input;
  const probeMessageId = messageIdOf(headerValue(message.fields, "Message-ID"));
  const reported = message.headerLines.map(toAscii);
  const signature = signReply(
    { probeId: input.token.probeId, arrivedAtMs: input.arrivedAtMs, headerLines: reported },
    input.key,
  );
  const headers = [
    `From: ${input.from}`,
    `To: <${input.returnTo}>`,
    `Subject: ${replySubject(headerValue(message.fields, "Subject"))}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.uniqueId}@${safeHostname(input.hostname)}>`,
    ...(probeMessageId === undefined
      ? []
      : [`In-Reply-To: ${probeMessageId}`, `References: ${probeMessageId}`]),
    // RFC 3834 §5: marks this as an automatic reply, so no responder answers it in turn.
    "Auto-Submitted: auto-replied",
    `X-Scout-Probe: ${input.token.token}`,
    `X-Scout-Arrived: ${input.arrivedAtMs}`,
    `X-Scout-Return-Version: ${RETURN_VERSION}`,
    `${REPLY_HEADER}: ${signature}`,
    ...(input.headerBlockCut ? ["X-Scout-Header-Truncated: yes"] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Transfer-Encoding: 7bit",
  ];
  const body = [
    "Automatic reply from Email Scout's email_return to a monitoring probe; the probe's headers follow.",
    "",
    ...encodeHeaderBlock(reported),
  ];
  return `${[...headers, "", ...body].join("\n")}\n`;
}

/**
 * The reply's From: the configured address, else the delivery's USER@DOMAIN (what Postfix
 * passes to a ~/.forward pipe), else the probe's To, else USER@hostname.
 */
export function replyFromAddress(
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  message: ParsedMessage,
  hostname: string,
): string {
  const user = env.USER ?? env.LOGNAME;
  const candidates = [
    configured,
    user !== undefined && env.DOMAIN !== undefined ? `${user}@${env.DOMAIN}` : undefined,
    firstAddressIn(headerValue(message.fields, "To") ?? ""),
    `${user ?? "email-return"}@${safeHostname(hostname)}`,
  ];
  return (
    candidates.find((c): c is string => c !== undefined && isPlainAddress(c)) ?? "email-return@localhost"
  );
}

/**
 * The probe header block is ASCII by construction (the monitor writes it, MTAs add ASCII
 * trace fields), and the reply says charset=us-ascii. A relay on the way that added 8-bit
 * bytes (or a stray control character) would make the reply invalid 7-bit mail, so each such
 * byte becomes "?": the block stays readable and its line structure intact.
 */
function toAscii(line: string): string {
  return line.replace(/[^\t\x20-\x7e]/g, "?");
}

function replySubject(subject: string | undefined): string {
  const clean = toAscii(subject ?? "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
  return /^re:/i.test(clean) ? clean : `Re: ${clean}`.trimEnd();
}

function messageIdOf(value: string | undefined): string | undefined {
  // The first <...> of printable ASCII other than "<" and ">".
  return /<[!-;=?-~]{1,900}>/.exec(value ?? "")?.[0];
}

function safeHostname(hostname: string): string {
  return /^[A-Za-z0-9.-]{1,253}$/.test(hostname) ? hostname : "localhost";
}

/** RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 28 Nov 2023 12:00:00 +0000". */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}
