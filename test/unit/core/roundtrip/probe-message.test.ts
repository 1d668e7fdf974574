import { describe, expect, it } from "vitest";
import {
  buildProbe,
  composeProbe,
  type ProbeSpec,
  signProbe,
} from "../../../../core/roundtrip/probe-message.ts";
import { headerValue, parseMessage } from "../../../../core/wire/parse-headers.ts";
import { parseProbeToken } from "../../../../core/wire/probe-token.ts";
import { decide, envelopeSenderOf } from "../../../../return/decide.ts";

const key = { id: "k1", key: Buffer.alloc(32, 7) };
const sentAtMs = 1_700_000_000_123;
const spec: ProbeSpec = {
  probeId: "AbCdEfGh_-12345678",
  targetId: "mx1.example.com",
  to: "probe@mx1.example.com",
  from: '"Email Scout" <probe@scout.example.net>',
  inboundDomain: "returns.scout.example.net",
  sentAtMs,
  key,
};

describe("buildProbe", () => {
  it("builds the envelope, Message-ID and token", async () => {
    const probe = await buildProbe(spec);
    expect(probe.envelope).toEqual({
      from: "bounces+AbCdEfGh_-12345678@returns.scout.example.net",
      to: ["probe@mx1.example.com"],
    });
    expect(probe.messageId).toBe("<probe.AbCdEfGh_-12345678@returns.scout.example.net>");
    expect(parseProbeToken(probe.token)).toMatchObject({
      probeId: spec.probeId,
      targetId: spec.targetId,
      sentAtMs,
    });
    const other = await buildProbe({ ...spec, messageIdDomain: "out.scout.example.net" });
    expect(other.messageId).toBe("<probe.AbCdEfGh_-12345678@out.scout.example.net>");
  });

  it("writes the headers a probe needs, CRLF only, no line over 998 characters", async () => {
    const probe = await buildProbe(spec);
    const text = probe.raw.toString("latin1");
    expect(text).not.toMatch(/[^\r]\n/);
    for (const line of text.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    const { fields, complete } = parseMessage(probe.raw);
    expect(complete).toBe(true);
    expect(headerValue(fields, "From")).toBe("Email Scout <probe@scout.example.net>");
    expect(headerValue(fields, "To")).toBe("probe@mx1.example.com");
    expect(headerValue(fields, "Subject")).toBe("Email Scout probe AbCdEfGh_-12345678");
    expect(headerValue(fields, "Message-ID")).toBe(probe.messageId);
    expect(headerValue(fields, "Date")).toBe("Tue, 14 Nov 2023 22:13:20 +0000");
    expect(headerValue(fields, "Auto-Submitted")).toBe("auto-generated");
    expect(headerValue(fields, "X-Scout-Probe")).toBe(probe.token);
    expect(headerValue(fields, "X-Scout-Target")).toBe("mx1.example.com");
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    expect(body).toMatch(/Email Scout/);
    expect(body).toMatch(/safe to ignore/);
    expect(headerValue(fields, "Content-Transfer-Encoding")).toBe("7bit");
  });

  it("is a message email_return answers", async () => {
    const probe = await buildProbe(spec);
    const message = parseMessage(probe.raw);
    const decision = decide({
      fields: message.fields,
      envelopeSender: envelopeSenderOf({ SENDER: probe.envelope.from }, message),
      keys: [key],
      nowMs: sentAtMs + 3_000,
      maxAgeMs: 86_400_000,
    });
    expect(decision).toMatchObject({ action: "reply", token: { probeId: spec.probeId } });
  });

  it("encodes a non-ASCII target id and keeps control characters out of the headers", async () => {
    const probe = await buildProbe({ ...spec, targetId: "mx ü\r\nBcc: victim@example.org" });
    const { fields } = parseMessage(probe.raw);
    expect(headerValue(fields, "Bcc")).toBeUndefined();
    expect(headerValue(fields, "X-Scout-Target")).toMatch(/^=\?UTF-8\?/);
    expect(parseProbeToken(probe.token).targetId).toBe("mx ü\r\nBcc: victim@example.org");
  });

  it.each<[string, Partial<ProbeSpec>]>([
    ["a bad probe id", { probeId: "short" }],
    ["a bad inbound domain", { inboundDomain: "bad domain" }],
    ["a bad Message-ID domain", { messageIdDomain: "x>y" }],
    ["a To with a display name", { to: "Probe <probe@mx1.example.com>" }],
    ["a From with a line break", { from: "probe@x.example\r\nBcc: v@example.org" }],
    ["a short key", { key: { id: "k1", key: Buffer.alloc(8) } }],
  ])("refuses %s", async (_name, change) => {
    await expect(buildProbe({ ...spec, ...change })).rejects.toThrow(RangeError);
  });
});

describe("composeProbe + signProbe", () => {
  it("sign a composed probe with the send time taken after composing, token header first", async () => {
    const { sentAtMs: _sent, key: _key, ...rest } = spec;
    const composed = await composeProbe({ ...rest, dateMs: sentAtMs - 5 });
    expect(composed.raw.toString("latin1")).not.toContain("X-Scout-Probe");
    const signed = signProbe(composed, { sentAtMs, key });
    const text = signed.raw.toString("latin1");
    expect(text.startsWith(`X-Scout-Probe: ${signed.token}\r\n`)).toBe(true);
    expect(parseProbeToken(signed.token)).toMatchObject({ probeId: spec.probeId, sentAtMs });
    // The same token as buildProbe's: only the send time and the key go into it.
    expect(signed.token).toBe((await buildProbe(spec)).token);
    const message = parseMessage(signed.raw);
    expect(headerValue(message.fields, "X-Scout-Probe")).toBe(signed.token);
  });

  it("refuses a probe id that could not go into a token before composing anything", async () => {
    const { sentAtMs: _sent, key: _key, ...rest } = spec;
    await expect(composeProbe({ ...rest, probeId: "bad id\r\n", dateMs: 0 })).rejects.toThrow(/probeId/);
  });
});
