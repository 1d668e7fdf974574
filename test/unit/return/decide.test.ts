import { describe, expect, it } from "vitest";
import { parseMessage } from "../../../core/wire/parse-headers.ts";
import { type Decision, decide, envelopeSenderOf, MAX_FUTURE_SKEW_MS } from "../../../return/decide.ts";
import { fixtureKey, type ProbeOptions, probeId, probeMessage } from "../../support/probe-fixture.ts";

const nowMs = 1_700_000_000_000;
const maxAgeMs = 86_400_000;

/** A probe sent 2 s before `nowMs`, as delivered, with `options` applied. */
function probe(options: ProbeOptions = {}): string {
  return probeMessage({ sentAtMs: nowMs - 2_000, ...options });
}

function decideFor(text: string, env: Record<string, string> = {}): Decision {
  const message = parseMessage(Buffer.from(text));
  return decide({
    fields: message.fields,
    envelopeSender: envelopeSenderOf(env, message),
    keys: [fixtureKey],
    nowMs,
    maxAgeMs,
  });
}

const withoutAutoSubmitted = (text: string) => text.replace("Auto-Submitted: auto-generated\n", "");

describe("decide", () => {
  it("replies to a valid, fresh probe", () => {
    expect(decideFor(probe())).toMatchObject({ action: "reply", reason: "valid-probe", token: { probeId } });
  });

  it("replies without Auto-Submitted, or with Auto-Submitted: no", () => {
    const bare = withoutAutoSubmitted(probe());
    expect(decideFor(bare).action).toBe("reply");
    expect(decideFor(bare.replace("To: probe", "Auto-Submitted: no\nTo: probe")).action).toBe("reply");
  });

  it("does not mistake the probe's own bounces+<id> sender for a bounce", () => {
    expect(decideFor(probe(), { SENDER: `bounces+${probeId}@scout.example.net` }).action).toBe("reply");
  });

  const sender = (s: string) => ({ SENDER: s });
  it.each<[string, string, Record<string, string>, string, string | undefined]>([
    ["null sender in $SENDER", probe(), sender(""), "null-sender", undefined],
    [
      "null sender in Return-Path",
      probe({ mboxFromLine: null }).replace(/^Return-Path: .*$/m, "Return-Path: <>"),
      {},
      "null-sender",
      undefined,
    ],
    [
      "MAILER-DAEMON in the From_ line",
      probe({ mboxFromLine: "From MAILER-DAEMON  Tue Nov 28 12:00:00 2023" }),
      {},
      "mailer-daemon",
      "MAILER-DAEMON",
    ],
    [
      "mailer-daemon@host in $SENDER",
      probe(),
      sender("mailer-daemon@mx.example.org"),
      "mailer-daemon",
      "mailer-daemon@mx.example.org",
    ],
    [
      "owner-* sender",
      probe(),
      sender("owner-probes@l.example.org"),
      "list-admin-sender",
      "owner-probes@l.example.org",
    ],
    [
      "*-request sender",
      probe(),
      sender("probes-request@l.example.org"),
      "list-admin-sender",
      "probes-request@l.example.org",
    ],
    [
      "Auto-Submitted: auto-replied",
      withoutAutoSubmitted(probe({ extraHeaders: ["Auto-Submitted: auto-replied"] })),
      {},
      "auto-submitted",
      "auto-replied",
    ],
    [
      "Auto-Submitted: auto-notified with parameters",
      withoutAutoSubmitted(
        probe({ extraHeaders: ["Auto-Submitted: Auto-Notified; owner-email=x@y.example"] }),
      ),
      {},
      "auto-submitted",
      "auto-notified",
    ],
    [
      "List-Id",
      probe({ extraHeaders: ["List-Id: Probes <probes.l.example.org>"] }),
      {},
      "list-mail",
      "List-Id",
    ],
    [
      "List-Unsubscribe",
      probe({ extraHeaders: ["List-Unsubscribe: <mailto:u@l.example.org>"] }),
      {},
      "list-mail",
      "List-Unsubscribe",
    ],
    ["List-Post", probe({ extraHeaders: ["List-Post: NO"] }), {}, "list-mail", "List-Post"],
    ["Precedence: bulk", probe({ extraHeaders: ["Precedence: bulk"] }), {}, "bulk-precedence", "bulk"],
    ["Precedence: List", probe({ extraHeaders: ["Precedence: List"] }), {}, "bulk-precedence", "list"],
    ["Precedence: junk", probe({ extraHeaders: ["Precedence: junk"] }), {}, "bulk-precedence", "junk"],
    ["no X-Scout-Probe", probe({ token: null }), {}, "not-a-probe", undefined],
    [
      "a malformed token",
      probe({ token: "v1.not-a-token" }),
      {},
      "token-malformed",
      "malformed probe token: has 2 fields, expected 5",
    ],
    [
      "a version 9 token",
      probe({ token: "v9.what.comes.next.here" }),
      {},
      "token-unsupported-version",
      "probe token version v9 is not supported",
    ],
    [
      "a token signed with another key (bad HMAC)",
      probe({ key: { ...fixtureKey, key: Buffer.alloc(32, 1) } }),
      {},
      "token-bad-signature",
      "probe token signature does not match",
    ],
    [
      "an expired token",
      probe({ sentAtMs: nowMs - maxAgeMs - 1 }),
      {},
      "token-expired",
      `probe token is ${maxAgeMs + 1} ms old (limit ${maxAgeMs} ms)`,
    ],
    [
      "a token from more than 10 minutes ahead",
      probe({ sentAtMs: nowMs + MAX_FUTURE_SKEW_MS + 1 }),
      {},
      "token-from-future",
      `probe token is ${MAX_FUTURE_SKEW_MS + 1} ms in the future (limit ${MAX_FUTURE_SKEW_MS} ms)`,
    ],
  ])("ignores %s", (_name, text, env, reason, detail) => {
    const decision = decideFor(text, env);
    expect(decision).toMatchObject({ action: "ignore", reason });
    expect(decision.action === "ignore" ? decision.detail : "replied").toBe(detail);
  });

  it("names the probe when its token parses but fails", () => {
    expect(decideFor(probe({ key: { ...fixtureKey, key: Buffer.alloc(32, 1) } }))).toMatchObject({
      action: "ignore",
      probeId,
    });
    expect(decideFor(probe({ token: "v1.x" }))).not.toHaveProperty("probeId");
  });

  it("finds the envelope sender in $SENDER, then the From_ line, then Return-Path", () => {
    const message = parseMessage(Buffer.from(probe()));
    expect(envelopeSenderOf({ SENDER: "a@b.example" }, message)).toBe("a@b.example");
    expect(envelopeSenderOf({}, message)).toBe(`bounces+${probeId}@scout.example.net`);
    const noFromLine = parseMessage(Buffer.from(probe({ mboxFromLine: null })));
    expect(envelopeSenderOf({}, noFromLine)).toBe(`bounces+${probeId}@scout.example.net`);
    expect(envelopeSenderOf({}, parseMessage(Buffer.from("Subject: x\n\n")))).toBeUndefined();
  });
});
