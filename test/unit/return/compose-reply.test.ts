import { describe, expect, it } from "vitest";
import { decodeHeaderBlock } from "../../../core/wire/header-block.ts";
import { headerValue, parseMessage } from "../../../core/wire/parse-headers.ts";
import { verifyProbeToken } from "../../../core/wire/probe-token.ts";
import { verifyReply } from "../../../core/wire/reply-signature.ts";
import { composeReply, type ReplyInput, replyFromAddress } from "../../../return/compose-reply.ts";
import { fixtureKey, type ProbeOptions, probeId, probeMessage } from "../../support/probe-fixture.ts";

const sentAtMs = 1_700_000_000_000;

function replyTo(options: ProbeOptions = {}, overrides: Partial<ReplyInput> = {}) {
  const message = parseMessage(Buffer.from(probeMessage({ sentAtMs, ...options })));
  const tokenText = headerValue(message.fields, "X-Scout-Probe") ?? "";
  const token = verifyProbeToken(tokenText, fixtureKey.key, {
    nowMs: sentAtMs,
    maxAgeMs: 1000,
    maxFutureSkewMs: 0,
  });
  const text = composeReply({
    returnTo: "returns@scout-returns.example.com",
    from: "probe@mx1.example.com",
    token,
    arrivedAtMs: sentAtMs + 1234,
    message,
    key: fixtureKey,
    headerBlockCut: false,
    now: new Date(Date.UTC(2023, 10, 28, 12, 0, 5)),
    hostname: "mx1.example.com",
    uniqueId: "scout-return.abc",
    ...overrides,
  });
  return { text, message, token, reply: parseMessage(Buffer.from(text)) };
}

describe("composeReply", () => {
  it("writes every required header", () => {
    const { reply, token } = replyTo();
    const h = (name: string) => headerValue(reply.fields, name);
    expect(h("From")).toBe("probe@mx1.example.com");
    expect(h("To")).toBe("<returns@scout-returns.example.com>");
    expect(h("Subject")).toBe(`Re: Email Scout probe ${probeId}`);
    expect(h("Date")).toBe("Tue, 28 Nov 2023 12:00:05 +0000");
    expect(h("Message-ID")).toBe("<scout-return.abc@mx1.example.com>");
    expect(h("In-Reply-To")).toBe(`<${probeId}@scout.example.net>`);
    expect(h("References")).toBe(`<${probeId}@scout.example.net>`);
    expect(h("Auto-Submitted")).toBe("auto-replied");
    expect(h("X-Scout-Probe")).toBe(token.token);
    expect(h("X-Scout-Arrived")).toBe(String(sentAtMs + 1234));
    expect(h("X-Scout-Return-Version")).toBe("2");
    expect(h("MIME-Version")).toBe("1.0");
    expect(h("Content-Type")).toBe("text/plain; charset=us-ascii");
    expect(h("X-Scout-Header-Truncated")).toBeUndefined();
  });

  it("returns the probe's whole header block, folding lines included", () => {
    const { text } = replyTo();
    const sent = probeMessage({ sentAtMs }).split("\n\n")[0]?.split("\n").slice(1);
    expect(sent).toHaveLength(17);
    expect(decodeHeaderBlock(text)).toEqual(sent);
  });

  it("signs the probe id, its arrival time and the header block it reports (after 8-bit bytes became ?)", () => {
    const { text, reply } = replyTo({ extraHeaders: ["X-Odd: caf\u00e9"] });
    const signature = headerValue(reply.fields, "X-Scout-Reply") ?? "";
    expect(signature).toMatch(new RegExp(`^v3\\.k1\\.${probeId}\\.${sentAtMs + 1234}\\.`));
    const headerLines = decodeHeaderBlock(text) ?? [];
    expect(verifyReply(signature, fixtureKey, { probeId, headerLines })).toEqual({
      arrivedAtMs: sentAtMs + 1234,
    });
    expect(() =>
      verifyReply(signature, fixtureKey, { probeId, headerLines: [...headerLines, "Received: x"] }),
    ).toThrow(/not the one signed/);
  });

  it("replaces each 8-bit byte (é is two in UTF-8) and control character with ?", () => {
    const { text } = replyTo({ extraHeaders: ["X-Odd: caf\u00e9\u0001end"] });
    expect(decodeHeaderBlock(text)).toContain("X-Odd: caf???end");
    expect(/[^\n\t\x20-\x7e]/.test(text)).toBe(false);
  });

  it("keeps every line under 998 characters", () => {
    const { text } = replyTo({ extraHeaders: [`X-Huge: ${"z".repeat(5000)}`] });
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThan(998);
    expect(decodeHeaderBlock(text)).toContain(`X-Huge: ${"z".repeat(5000)}`);
  });

  it("sanitises the subject and leaves out In-Reply-To without a Message-ID", () => {
    const odd = probeMessage({ sentAtMs })
      .replace(/^Subject: .*$/m, "Subject: re: x\u00ff\ty")
      .replace(/^Message-ID: .*\n/m, "");
    const { reply } = replyTo({}, { message: parseMessage(Buffer.from(odd)) });
    expect(headerValue(reply.fields, "Subject")).toBe("re: x?? y");
    expect(headerValue(reply.fields, "In-Reply-To")).toBeUndefined();
    expect(headerValue(reply.fields, "References")).toBeUndefined();
  });

  it("uses localhost in the Message-ID when the hostname is unusable", () => {
    const { reply } = replyTo({}, { hostname: "bad host!" });
    expect(headerValue(reply.fields, "Message-ID")).toBe("<scout-return.abc@localhost>");
  });

  it("marks a header block cut at maxBytes", () => {
    expect(headerValue(replyTo({}, { headerBlockCut: true }).reply.fields, "X-Scout-Header-Truncated")).toBe(
      "yes",
    );
  });
});

describe("replyFromAddress", () => {
  const message = parseMessage(Buffer.from(probeMessage()));
  it.each<[string, string | undefined, Record<string, string>, string]>([
    [
      "the configured address",
      "me@config.example",
      { USER: "probe", DOMAIN: "mx1.example.com" },
      "me@config.example",
    ],
    ["USER@DOMAIN", undefined, { USER: "probe", DOMAIN: "mx9.example.com" }, "probe@mx9.example.com"],
    ["the probe's To", undefined, { USER: "probe" }, "probe@mx1.example.com"],
    [
      "the probe's To when USER@DOMAIN is no address",
      undefined,
      { USER: "a b", DOMAIN: "x" },
      "probe@mx1.example.com",
    ],
  ])("uses %s", (_name, configured, env, expected) => {
    expect(replyFromAddress(configured, env, message, "host.example")).toBe(expected);
  });

  it("falls back to USER@hostname", () => {
    expect(
      replyFromAddress(undefined, { USER: "probe" }, parseMessage(Buffer.from("To: x\n\n")), "h.example"),
    ).toBe("probe@h.example");
  });
});
