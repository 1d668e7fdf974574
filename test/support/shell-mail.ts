/*
 * Inbound mail for the intake contract suite, made from a probe a shell really sent: returns
 * made by email_return's own logic (emailReturnReply), bounces made from the Postfix DSN
 * fixtures, and the hostile kinds (forged, tokenless, malformed).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { headerValue, parseMessage } from "../../core/wire/parse-headers.ts";
import { newProbeKey, type ProbeKey } from "../../core/wire/probe-key.ts";
import { createProbeToken, parseProbeToken } from "../../core/wire/probe-token.ts";
import { emailReturnReply } from "./email-return-reply.ts";
import {
  type InboundEnvelope,
  PROBE_MAILBOX,
  RETURN_ADDRESS,
  type SentProbe,
  type ShellRuntime,
} from "./shell-runtimes.ts";

/** The hop the probe mailbox's MX writes on delivery: what a return's hops must show. */
export const MAILBOX_HOP = { from: "relay.example.net", by: "mx1.example.com", with: "ESMTPS" } as const;

/** The envelope email_return's sendmail gives a return. */
export const RETURN_ENVELOPE: InboundEnvelope = { from: PROBE_MAILBOX, to: [RETURN_ADDRESS] };

/** The envelope of a bounce of `probe`: the null sender, to the probe's bounces+ address. */
export function bounceEnvelope(probe: SentProbe): InboundEnvelope {
  return { from: "", to: [probe.envelope.from] };
}

export function tokenOf(probe: SentProbe): string {
  const token = headerValue(parseMessage(probe.raw).fields, "X-Scout-Probe");
  if (token === undefined) throw new Error("the probe has no X-Scout-Probe header");
  return token;
}

export function probeIdOf(probe: SentProbe): string {
  return parseProbeToken(tokenOf(probe)).probeId;
}

/** The probe as the mailbox's MX hands it to ~/.forward: its Received field on top. */
function deliveredToMailbox(raw: Buffer, atMs: number, receiverFields: readonly string[] = []): Buffer {
  const date = new Date(atMs).toUTCString().replace(/GMT$/, "+0000");
  const received =
    receiverFields.map((line) => `${line}\r\n`).join("") +
    `Received: from ${MAILBOX_HOP.from} (${MAILBOX_HOP.from} [192.0.2.10])\r\n` +
    `\tby ${MAILBOX_HOP.by} (Postfix) with ${MAILBOX_HOP.with} id 4Sf0Q21234\r\n` +
    `\tfor <${PROBE_MAILBOX}>; ${date}\r\n`;
  return Buffer.concat([Buffer.from(received, "latin1"), raw]);
}

/**
 * email_return's reply to `probe` (signed with `key`), as it answers now by the shell's clock;
 * `receiverFields` are header lines the mailbox's MX wrote above its Received field (its
 * Authentication-Results, a spam filter's verdict).
 */
export function returnOf(
  shell: ShellRuntime,
  probe: SentProbe,
  key: ProbeKey | readonly ProbeKey[] = shell.probeKeyRing(),
  receiverFields: readonly string[] = [],
): Buffer {
  const nowMs = shell.clock.now();
  return emailReturnReply(deliveredToMailbox(probe.raw, nowMs, receiverFields), {
    key,
    returnTo: RETURN_ADDRESS,
    nowMs,
    uniqueId: randomBytes(8).toString("hex"),
    sender: probe.envelope.from,
  });
}

/**
 * A return for `probe` whose token names the same probe, target and send time but is signed
 * with another key: what someone who saw the probe, but holds no key, could send.
 */
export function forgedReturnOf(shell: ShellRuntime, probe: SentProbe): Buffer {
  return returnSignedWith(shell, probe, { ...shell.probeKey, key: newProbeKey() });
}

/**
 * A return for `probe` whose token (same probe, target and send time) and reply are signed with
 * `key`: what whoever holds `key` (another target's email_return, say) could make.
 */
export function returnSignedWith(shell: ShellRuntime, probe: SentProbe, key: ProbeKey): Buffer {
  const genuine = tokenOf(probe);
  const { probeId, targetId, sentAtMs } = parseProbeToken(genuine);
  const forged = createProbeToken({ probeId, targetId, sentAtMs }, key);
  const raw = Buffer.from(probe.raw.toString("latin1").replace(genuine, forged), "latin1");
  return returnOf(shell, { ...probe, raw }, key);
}

/** A genuine return with its X-Scout-Probe field taken out. */
export function tokenlessReturnOf(shell: ShellRuntime, probe: SentProbe): Buffer {
  const text = returnOf(shell, probe).toString("latin1");
  const without = text.replace(/^X-Scout-Probe: .*\r\n(?:[ \t].*\r\n)*/m, "");
  if (without === text) throw new Error("the return has no X-Scout-Probe field to take out");
  return Buffer.from(without, "latin1");
}

/**
 * Mail no MIME parser should be made to walk: 60 nested parts, past the correlator's limit of
 * 50. Legal SMTP, so SES and the listener both take it.
 */
export function malformedMail(): Buffer {
  const parts = Array.from({ length: 60 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`);
  return Buffer.from(
    `From: someone@example.org\r\nTo: ${RETURN_ADDRESS}\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="b"\r\n\r\n${parts.join("")}--b--\r\n`,
  );
}

/**
 * A Postfix DSN fixture (test/fixtures/dsn) rewritten for `probe`: its returned headers carry
 * the probe's own token and it is addressed to the probe's bounces+ address, as the remote
 * MTA sends it (without the local delivery fields on top).
 */
export function bounceOf(probe: SentProbe, fixture = "postfix-5.1.1.eml"): Buffer {
  const template = readFileSync(new URL(`../fixtures/dsn/${fixture}`, import.meta.url), "latin1");
  const headerEnd = template.indexOf("\n\n");
  const top = template.slice(0, headerEnd).replace(/^(Return-Path|X-Original-To|Delivered-To): .*\n/gm, "");
  const text = `${top}${template.slice(headerEnd)}`
    .replace(/^X-Scout-Probe: .*\n(?:\t.*\n)*/m, `X-Scout-Probe: ${tokenOf(probe)}\n`)
    .replaceAll("dsnFixtureProbe-01", probeIdOf(probe));
  return Buffer.from(text.replace(/\r?\n/g, "\r\n"), "latin1");
}
