/** Shared fixtures of the correlateInbound tests: a return made exactly as email_return makes one. */
import { readFileSync } from "node:fs";
import type { Clock } from "../../core/ports/clock.ts";
import type { NewProbe } from "../../core/ports/probe-store.ts";
import type { CorrelateDeps, InboundMail } from "../../core/roundtrip/correlate.ts";
import { buildProbe } from "../../core/roundtrip/probe-message.ts";
import { parseMessage } from "../../core/wire/parse-headers.ts";
import { LEGACY_KEY_ID, type ProbeKey, type ProbeKeyRing } from "../../core/wire/probe-key.ts";
import { MemoryStore } from "../../local/adapters/memory-store.ts";
import { composeReply, replyFromAddress } from "../../return/compose-reply.ts";
import { decide, envelopeSenderOf } from "../../return/decide.ts";

/** The target's signing key (its ring's first). */
export const key: ProbeKey = { id: "k1", key: Buffer.alloc(32, 0x5c) };
/**
 * The DSN fixtures' probe (target "scout.test", DSN_FIXTURE_TARGET) was signed before key ids, with
 * a version 1 key file of the same bytes: its token is version 1, checked with the legacy key "v1".
 */
export const legacyKey: ProbeKey = { id: LEGACY_KEY_ID, key: key.key };
export const DSN_FIXTURE_TARGET = "scout.test";
/** A target that shares targetId's ring (as targets without a key file of their own share the global one). */
export const SHARED_KEY_TARGET = "mx2.scout.test";
/** A target with a key ring of its own. */
export const OWN_KEY_TARGET = "mx3.scout.test";
export const ownTargetKey: ProbeKey = { id: "mx3-k1", key: Buffer.alloc(32, 0x33) };
export const inboundDomain = "scout-returns.example.com";
export const returnAddress = `returns@${inboundDomain}`;
export const probeId = "retProbe-000000001";
export const targetId = "mx1.scout.test";
export const sentAtMs = Date.UTC(2023, 10, 28, 12, 0, 0);
export const maxAgeMs = 3_600_000;
export const deadlineMs = sentAtMs + 600_000;

/** The monitor's clock, which the tests move by hand. */
class FakeClock implements Clock {
  constructor(public nowMs: number) {}
  now(): number {
    return this.nowMs;
  }
}

export interface ReturnOptions {
  /** The key the probe was signed with (and email_return's ring). */
  signKey?: ProbeKey;
  /** The target the probe's token names. */
  tokenTargetId?: string;
  /** The remote server's clock when the probe arrived. */
  remoteArrivedAtMs?: number;
  /** Edits the return's text before the monitor's MTA receives it. */
  edit?: (text: string) => string;
}

/**
 * A return exactly as email_return makes one: the probe as the prober builds it, delivered by
 * Postfix to the ~/.forward pipe (From_ line, Return-Path, two Received hops), judged by
 * email_return's decide() and answered by its composeReply(), then received by the monitor.
 */
export async function makeReturn(options: ReturnOptions = {}): Promise<Buffer> {
  const probe = await buildProbe({
    probeId,
    targetId: options.tokenTargetId ?? targetId,
    to: "probe@mx1.scout.test",
    from: `Email Scout <probe@${inboundDomain}>`,
    inboundDomain,
    sentAtMs,
    key: options.signKey ?? key,
  });
  const delivered = [
    `From ${probe.envelope.from}  Tue Nov 28 12:00:01 2023`,
    `Return-Path: <${probe.envelope.from}>`,
    "X-Original-To: probe@mx1.scout.test",
    "Delivered-To: probe@mx1.scout.test",
    "Received: from relay.scout-returns.example.com (relay.scout-returns.example.com [192.0.2.10])",
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
    "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)",
    "\t(No client certificate requested)",
    "\tby mx1.scout.test (Postfix) with ESMTPS id 4SfRkQ0DxWz9vCx",
    "\tfor <probe@mx1.scout.test>; Tue, 28 Nov 2023 12:00:41 +0000 (UTC)",
    "Received: from localhost (localhost [127.0.0.1])",
    "\tby relay.scout-returns.example.com (Postfix) with ESMTP id 77AB10C2;",
    "\tTue, 28 Nov 2023 12:00:00 +0000 (UTC)",
    probe.raw.toString("latin1").replace(/\r\n/g, "\n"),
  ].join("\n");
  const message = parseMessage(Buffer.from(delivered, "latin1"));
  const arrivedAtMs = options.remoteArrivedAtMs ?? sentAtMs + 41_625;
  const env = { SENDER: probe.envelope.from, USER: "probe", DOMAIN: "mx1.scout.test" };
  const decision = decide({
    fields: message.fields,
    envelopeSender: envelopeSenderOf(env, message),
    keys: [options.signKey ?? key],
    nowMs: arrivedAtMs,
    maxAgeMs,
  });
  if (decision.action !== "reply") throw new Error(`email_return would not reply: ${decision.reason}`);
  const reply = composeReply({
    returnTo: returnAddress,
    from: replyFromAddress(undefined, env, message, "mx1.scout.test"),
    token: decision.token,
    arrivedAtMs,
    message,
    key: decision.key,
    headerBlockCut: false,
    now: new Date(arrivedAtMs),
    hostname: "mx1.scout.test",
    uniqueId: "scout-return.test",
  });
  const received = [
    "Received: from mx1.scout.test (mx1.scout.test [198.51.100.7])",
    `\tby inbound.${inboundDomain} with ESMTPS id abc123;`,
    "\tTue, 28 Nov 2023 12:00:03 +0000",
    reply,
  ].join("\n");
  return Buffer.from((options.edit ?? ((t) => t))(received).replace(/\r?\n/g, "\r\n"), "latin1");
}

export const newProbe: NewProbe = {
  probeId,
  targetId,
  toAddress: "probe@mx1.scout.test",
  messageId: `<probe.${probeId}@${inboundDomain}>`,
  sentAtMs,
  deadlineMs,
};

export async function setup(options: { record?: boolean; nowMs?: number } = {}) {
  const store = new MemoryStore();
  if (options.record !== false) await store.recordSent(newProbe);
  const clock = new FakeClock(options.nowMs ?? sentAtMs + 3_250);
  const logs: Record<string, unknown>[] = [];
  const deps: CorrelateDeps = {
    store,
    keys: new Map<string, ProbeKeyRing>([
      [targetId, [key]],
      [DSN_FIXTURE_TARGET, [legacyKey]],
      [SHARED_KEY_TARGET, [key]],
      [OWN_KEY_TARGET, [ownTargetKey]],
    ]),
    returnAddress,
    inboundDomain,
    maxAgeMs,
    clock,
    log: (entry) => logs.push(entry),
  };
  return { store, clock, deps, logs };
}

export function inbound(raw: Buffer, receivedAtMs: number, rcptTo: string[] = [returnAddress]): InboundMail {
  return { raw, receivedAtMs, envelope: { mailFrom: "probe@mx1.scout.test", rcptTo }, source: "test" };
}

export const fixture = (name: string) => readFileSync(new URL(`../fixtures/dsn/${name}`, import.meta.url));
