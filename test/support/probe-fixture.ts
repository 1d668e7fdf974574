import type { ProbeKey } from "../../core/wire/probe-key.ts";
import { createProbeToken } from "../../core/wire/probe-token.ts";

export const fixtureKey: ProbeKey = { id: "k1", key: Buffer.alloc(32, 42) };
export const probeId = "PrObE_id-12345678";

export interface ProbeOptions {
  key?: ProbeKey;
  sentAtMs?: number;
  /** Replaces the header lines between Received and the body (token line included). */
  extraHeaders?: string[];
  token?: string | null;
  mboxFromLine?: string | null;
  lineEnd?: "\n" | "\r\n";
  body?: string;
}

/** A probe as a Postfix ~/.forward pipe delivers it: From_ line, trace fields, probe headers. */
export function probeMessage(options: ProbeOptions = {}): string {
  const sentAtMs = options.sentAtMs ?? Date.now() - 2_000;
  const token =
    options.token === undefined
      ? createProbeToken({ probeId, targetId: "mx1.example.com", sentAtMs }, options.key ?? fixtureKey)
      : options.token;
  const from =
    options.mboxFromLine === undefined
      ? `From bounces+${probeId}@scout.example.net  Tue Nov 28 12:00:00 2023`
      : options.mboxFromLine;
  const lines = [
    ...(from === null ? [] : [from]),
    `Return-Path: <bounces+${probeId}@scout.example.net>`,
    "X-Original-To: probe@mx1.example.com",
    "Delivered-To: probe@mx1.example.com",
    "Received: from out.scout.example.net (out.scout.example.net [192.0.2.10])",
    "\tby mx1.example.com (Postfix) with ESMTPS id 4Sf0Q21234",
    "\tfor <probe@mx1.example.com>; Tue, 28 Nov 2023 12:00:01 +0000 (UTC)",
    "Received: from localhost (localhost [127.0.0.1])",
    "\tby out.scout.example.net (Postfix) with ESMTP id 77AB;",
    "\tTue, 28 Nov 2023 12:00:00 +0000 (UTC)",
    "Auto-Submitted: auto-generated",
    ...(token === null ? [] : [`X-Scout-Probe: ${token.slice(0, 40)}`, ` ${token.slice(40)}`]),
    ...(options.extraHeaders ?? []),
    "From: Email Scout <probe@scout.example.net>",
    "To: probe@mx1.example.com",
    `Subject: Email Scout probe ${probeId}`,
    `Message-ID: <${probeId}@scout.example.net>`,
    "Date: Tue, 28 Nov 2023 12:00:00 +0000",
    "",
    options.body ?? "This is a round-trip probe from Email Scout.",
    "",
  ];
  return lines.join(options.lineEnd ?? "\n");
}
