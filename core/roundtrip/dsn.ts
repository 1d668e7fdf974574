import type { Attachment, ParsedMail, StructuredHeader } from "mailparser";
import type { BounceFacts } from "../ports/probe-store.ts";

/*
 * Delivery status notifications (RFC 3464). A DSN is multipart/report; report-type=
 * delivery-status (RFC 6522) with a human-readable part, a message/delivery-status part
 * (RFC 3464 §2: one group of per-message fields, then one group per recipient, groups
 * separated by blank lines, fields written like header fields) and, optionally, the original
 * message or its headers (text/rfc822-headers or message/rfc822). RFC 6533 adds the
 * "global" (UTF-8) variants of each.
 */

/** The fields of one per-recipient group that say what happened. Values as written, unfolded. */
export interface RecipientStatus {
  /** e.g. "rfc822; nobody@example.com". */
  readonly finalRecipient?: string;
  readonly originalRecipient?: string;
  /** failed | delayed | delivered | relayed | expanded, lower case (RFC 3464 §2.3.3). */
  readonly action?: string;
  /** The status code alone, e.g. "5.1.1" (RFC 3463). */
  readonly status?: string;
  /** e.g. "smtp; 550 5.1.1 <x@y>: Recipient address rejected". */
  readonly diagnosticCode?: string;
  /** e.g. "dns; mx.example.com". */
  readonly remoteMta?: string;
}

export interface DeliveryStatus {
  readonly reportingMta?: string;
  readonly arrivalDate?: string;
  readonly recipients: readonly RecipientStatus[];
}

/** The parts of a DSN the correlator needs. */
export interface DsnParts {
  readonly status?: DeliveryStatus;
  /** The header section of the message the DSN is about, when the reporting MTA returned it. */
  readonly originalHeaders?: Buffer;
}

const REPORT_TYPES = new Set(["delivery-status", "global-delivery-status"]);
const STATUS_PARTS = new Set(["message/delivery-status", "message/global-delivery-status"]);
const ORIGINAL_PARTS = new Set([
  "text/rfc822-headers",
  "message/rfc822",
  "message/global",
  "message/global-headers",
]);
/** A real delivery-status part is a few hundred bytes; refuse to work through megabytes. */
const MAX_STATUS_CHARS = 64 * 1024;
const MAX_RECIPIENTS = 100;
// RFC 3463 §2: class "." subject "." detail.
const STATUS_CODE = /^([245]\.\d{1,3}\.\d{1,3})(?!\d)/;

/** True for a top-level Content-Type of multipart/report; report-type=delivery-status (RFC 6522). */
export function isDeliveryStatusReport(parsed: ParsedMail): boolean {
  const contentType = parsed.headers.get("content-type") as StructuredHeader | undefined;
  const value = typeof contentType?.value === "string" ? contentType.value.toLowerCase() : "";
  const reportType = contentType?.params?.["report-type"];
  return (
    value === "multipart/report" &&
    typeof reportType === "string" &&
    REPORT_TYPES.has(reportType.toLowerCase())
  );
}

/**
 * The delivery-status fields and the returned original headers of a parsed DSN. Expects
 * simpleParser's `keepDeliveryStatus` and `ignoreEmbedded`, so both arrive as attachments.
 */
export function dsnPartsOf(parsed: ParsedMail): DsnParts {
  const statusPart = parsed.attachments.find((a) => STATUS_PARTS.has(typeOf(a)));
  const originalPart = parsed.attachments.find((a) => ORIGINAL_PARTS.has(typeOf(a)));
  const status =
    statusPart === undefined ? undefined : parseDeliveryStatus(statusPart.content.toString("utf8"));
  return {
    ...(status === undefined ? {} : { status }),
    ...(originalPart === undefined ? {} : { originalHeaders: originalPart.content }),
  };
}

/**
 * Parses the body of a message/delivery-status part. Undefined when it holds no per-recipient
 * group (a group with Final-Recipient, Action or Status). Never throws.
 */
export function parseDeliveryStatus(text: string): DeliveryStatus | undefined {
  if (text.length > MAX_STATUS_CHARS) return undefined;
  let perMessage: Map<string, string> | undefined;
  const recipients: RecipientStatus[] = [];
  for (const group of fieldGroups(text)) {
    if (group.has("final-recipient") || group.has("action") || group.has("status")) {
      if (recipients.length < MAX_RECIPIENTS) recipients.push(recipientOf(group));
    } else {
      // Some MTAs leave out the per-message group; the first group without recipient fields is it.
      perMessage ??= group;
    }
  }
  if (recipients.length === 0) return undefined;
  const reportingMta = perMessage?.get("reporting-mta");
  const arrivalDate = perMessage?.get("arrival-date");
  return {
    ...(reportingMta === undefined ? {} : { reportingMta }),
    ...(arrivalDate === undefined ? {} : { arrivalDate }),
    recipients,
  };
}

/** The first recipient whose Action is `action` (lower case), if any. */
export function recipientWithAction(status: DeliveryStatus, action: string): RecipientStatus | undefined {
  return status.recipients.find((r) => r.action === action);
}

function recipientOf(group: Map<string, string>): RecipientStatus {
  const status = STATUS_CODE.exec(group.get("status") ?? "")?.[1];
  const action = group
    .get("action")
    ?.split(/[\s(;]/)[0]
    ?.toLowerCase();
  const fields: Record<string, string | undefined> = {
    finalRecipient: group.get("final-recipient"),
    originalRecipient: group.get("original-recipient"),
    action: action === "" ? undefined : action,
    status,
    diagnosticCode: group.get("diagnostic-code"),
    remoteMta: group.get("remote-mta"),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as RecipientStatus;
}

/** Groups of fields (lower-case name -> unfolded value; the first of a repeated name wins). */
function fieldGroups(text: string): Map<string, string>[] {
  const groups: Map<string, string>[] = [];
  let current: { name: string; value: string }[] = [];
  const close = () => {
    if (current.length === 0) return;
    const group = new Map<string, string>();
    for (const { name, value } of current) {
      if (!group.has(name)) group.set(name, value.replace(/\s+/g, " ").trim());
    }
    groups.push(group);
    current = [];
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      close();
      continue;
    }
    const last = current.at(-1);
    if (/^[ \t]/.test(line)) {
      // Folding (RFC 5322 §2.2.3, which RFC 3464 §2.1 borrows).
      if (last !== undefined) last.value += line;
      continue;
    }
    const match = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (match !== null) current.push({ name: (match[1] ?? "").toLowerCase(), value: match[2] ?? "" });
  }
  close();
  return groups;
}

function typeOf(attachment: Attachment): string {
  return attachment.contentType.toLowerCase();
}

/** What a probe record keeps of a failed recipient; the remote's texts are cut, they may be anything. */
export function bounceFactsOf(recipient: RecipientStatus): BounceFacts {
  const facts: { -readonly [K in keyof BounceFacts]: BounceFacts[K] } = {};
  if (recipient.status !== undefined) facts.status = recipient.status;
  if (recipient.diagnosticCode !== undefined) facts.diagnostic = clipText(recipient.diagnosticCode, 1000);
  if (recipient.action !== undefined) facts.action = recipient.action;
  if (recipient.remoteMta !== undefined) facts.remoteMta = clipText(recipient.remoteMta, 300);
  return facts;
}

function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
