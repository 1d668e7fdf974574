import MailComposer from "nodemailer/lib/mail-composer";
import type { ProbeKey } from "../wire/probe-key.ts";
import { checkProbeIdentity, createProbeToken } from "../wire/probe-token.ts";

/** Everything a probe is made of; the key signs the token and is never written into the message. */
export interface ProbeSpec {
  probeId: string;
  targetId: string;
  /** The target's probe mailbox (header To and envelope recipient). */
  to: string;
  /** The From header, a bare address or `"Name" <address>`. */
  from: string;
  /** Where returns and bounces come back: the envelope sender is bounces+<probeId>@ this domain. */
  inboundDomain: string;
  sentAtMs: number;
  key: ProbeKey;
  /** The right-hand side of the Message-ID; the inbound domain when absent. */
  messageIdDomain?: string;
}

/** A probe ready for a MailSender, plus what the probe record needs to remember. */
export interface BuiltProbe {
  envelope: { from: string; to: string[] };
  /** The complete message, CRLF line ends, no line over 998 characters. */
  raw: Buffer;
  /** With angle brackets, as in the header. */
  messageId: string;
  token: string;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ADDRESS = /^[^\s<>@]+@[^\s<>@]+$/;

// Lines under 76 characters, so the body stays plain 7bit text (no quoted-printable).
const BODY = [
  "This is an automatic round-trip probe sent by Email Scout, a mail server",
  "monitor. The mail server it was sent to answers it automatically; the time",
  "the answer takes to come back shows that mail flows.",
  "",
  "It needs no action and is safe to ignore or delete.",
  "",
].join("\r\n");

/** A probe composed but not signed yet: everything except the token and its send time. */
export interface ComposedProbe {
  readonly probeId: string;
  readonly targetId: string;
  readonly envelope: { from: string; to: string[] };
  /** The message without X-Scout-Probe (signProbe puts it first). */
  readonly raw: Buffer;
  readonly messageId: string;
}

/**
 * Builds a probe message (pure: composes MIME in memory, no network). Throws RangeError on bad
 * input. Its Date header is `sentAtMs`.
 */
export async function buildProbe(spec: ProbeSpec): Promise<BuiltProbe> {
  const { sentAtMs, key, ...rest } = spec;
  return signProbe(await composeProbe({ ...rest, dateMs: sentAtMs }), { sentAtMs, key });
}

/**
 * The slow half of building a probe (nodemailer's composer takes a few milliseconds): done
 * before the send time is taken, so the measured round trip starts when the probe is ready to
 * leave, not while it is being written. Throws RangeError on bad input.
 */
export async function composeProbe(
  spec: Omit<ProbeSpec, "sentAtMs" | "key"> & { dateMs: number },
): Promise<ComposedProbe> {
  checkHostname("inboundDomain", spec.inboundDomain);
  const messageIdDomain = spec.messageIdDomain ?? spec.inboundDomain;
  checkHostname("messageIdDomain", messageIdDomain);
  if (!ADDRESS.test(spec.to)) throw new RangeError("to must be a bare address (local@domain)");
  if (spec.from.length === 0 || withoutControls(spec.from) !== spec.from) {
    throw new RangeError("from must be a non-empty header value without control characters");
  }
  // Its characters are all an address's local part and a Message-ID allow.
  checkProbeIdentity(spec);
  const messageId = `<probe.${spec.probeId}@${messageIdDomain}>`;
  const envelope = { from: `bounces+${spec.probeId}@${spec.inboundDomain}`, to: [spec.to] };

  const raw = await new MailComposer({
    from: spec.from,
    to: spec.to,
    subject: `Email Scout probe ${spec.probeId}`,
    date: new Date(spec.dateMs),
    messageId,
    headers: {
      // RFC 3834 §5: automatic, but not a reply to anything (email_return accepts exactly this).
      "Auto-Submitted": "auto-generated",
      // Informational only (the token carries the target id that counts); encoded if not ASCII.
      "X-Scout-Target": withoutControls(spec.targetId),
    },
    text: BODY,
  })
    .compile()
    .build();
  return { probeId: spec.probeId, targetId: spec.targetId, envelope, raw, messageId };
}

/**
 * Signs a composed probe: the token (key id, probe id, target id, send time, HMAC) goes into an
 * X-Scout-Probe header in front of the others. The token is [A-Za-z0-9_.-] and under 250
 * characters: one unfolded line.
 */
export function signProbe(composed: ComposedProbe, signing: { sentAtMs: number; key: ProbeKey }): BuiltProbe {
  const token = createProbeToken(
    { probeId: composed.probeId, targetId: composed.targetId, sentAtMs: signing.sentAtMs },
    signing.key,
  );
  const raw = Buffer.concat([Buffer.from(`X-Scout-Probe: ${token}\r\n`, "ascii"), composed.raw]);
  return { envelope: composed.envelope, raw, messageId: composed.messageId, token };
}

/** Control characters (C0 and DEL) become spaces: they could end a header line or smuggle in another. */
function withoutControls(text: string): string {
  return Array.from(text, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? " " : char;
  }).join("");
}

function checkHostname(name: string, value: string): void {
  if (!HOSTNAME.test(value)) throw new RangeError(`${name} must be a hostname`);
}
