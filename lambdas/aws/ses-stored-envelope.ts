import { headerValue, parseMessage } from "../../core/wire/parse-headers.ts";

/*
 * The envelope of a message the SES receipt rule stored in S3. S3 holds the message as SES
 * received it, with SES's own trace fields put on top (Return-Path, then a Received field
 * "... by inbound-smtp.<region>.amazonaws.com with SMTP id ... for <recipient>; <date>"), but no
 * field that lists every envelope recipient: those are only in the SES receipt notification,
 * which this path does not use.
 *
 * So: the recipient is the "for" clause of the topmost Received field (SES writes that field,
 * and the sender's own fields can only come below it). When SES left it out (a message for
 * several recipients), the To and Cc addresses that are ours stand in; they are the sender's
 * word, but the receipt rule already accepted the message for an address of the inbound
 * domain, and what makes a return count is its signed token, never its recipient. With no
 * address of ours in sight the addresses found are passed on, and the correlation rejects them
 * as wrong-recipient, naming one.
 */

const ADDRESS = /[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g;
const RECEIVED_FOR = /\bfor\s+<?([^\s<>;]+@[^\s<>;]+?)>?\s*(?:;|$)/i;

export interface StoredEnvelope {
  mailFrom: string;
  rcptTo: string[];
}

export function storedMailEnvelope(
  raw: Buffer,
  ours: { readonly returnAddress: string; readonly inboundDomain: string },
): StoredEnvelope {
  const { fields } = parseMessage(raw);
  const returnPath = headerValue(fields, "Return-Path") ?? "";
  const mailFrom = returnPath.replace(/^<(.*)>$/, "$1").trim();
  const topReceived = headerValue(fields, "Received");
  const forRecipient = topReceived === undefined ? undefined : RECEIVED_FOR.exec(topReceived)?.[1];
  if (forRecipient !== undefined) return { mailFrom, rcptTo: [forRecipient] };

  const listed = fields
    .filter((field) => /^(to|cc)$/i.test(field.name))
    .flatMap((field) => field.value.match(ADDRESS) ?? []);
  const isOurs = (address: string) => {
    const lower = address.toLowerCase();
    const domain = `@${ours.inboundDomain.toLowerCase()}`;
    return (
      lower === ours.returnAddress.toLowerCase() || (lower.startsWith("bounces+") && lower.endsWith(domain))
    );
  };
  const mine = listed.filter(isOurs);
  return { mailFrom, rcptTo: mine.length > 0 ? [...new Set(mine)] : listed.slice(0, 1) };
}
