import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LEGACY_KEY_ID, type ProbeKey } from "../../../../core/wire/probe-key.ts";
import {
  headerBlockDigest,
  ReplySignatureError,
  signReply,
  verifyReply,
} from "../../../../core/wire/reply-signature.ts";

/** The legacy key: replies to version 1 tokens are version 2, which these first cases pin down. */
const key: ProbeKey = { id: LEGACY_KEY_ID, key: Buffer.alloc(32, 7) };
const probeId = "PrObE_id-12345678";
const headerLines = [
  "Received: from a.example by b.example; Tue, 28 Nov 2023 12:00:01 +0000",
  "Subject: probe",
];
const arrivedAtMs = 1_700_000_001_000;
const signature = signReply({ probeId, arrivedAtMs, headerLines }, key);

type Expected = { probeId: string; headerLines: readonly string[] };

function reasonOf(
  text: string,
  expected: Expected = { probeId, headerLines },
  withKey: ProbeKey = key,
): string {
  try {
    verifyReply(text, withKey, expected);
  } catch (error) {
    if (error instanceof ReplySignatureError) return error.reason;
    throw error;
  }
  return "verified";
}

describe("reply signature", () => {
  it("has the documented shape and gives back the signed arrival time", () => {
    expect(signature).toMatch(/^v2\.PrObE_id-12345678\.1700000001000\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(signature.split(".")[3]).toBe(headerBlockDigest(headerLines));
    expect(verifyReply(signature, key, { probeId, headerLines })).toEqual({ arrivedAtMs });
  });

  it("survives folding whitespace an MTA may insert", () => {
    const folded = `${signature.slice(0, 40)}\r\n ${signature.slice(40)}`;
    expect(reasonOf(folded)).toBe("verified");
  });

  it.each<[string, string, Expected | undefined, ProbeKey, string]>([
    [
      "another key",
      signature,
      { probeId, headerLines },
      { id: LEGACY_KEY_ID, key: randomBytes(32) },
      "bad-signature",
    ],
    ["a key of another id", signature, undefined, { id: "k1", key: key.key }, "other-key"],
    [
      "a changed arrival time",
      signature.replace(".1700000001000.", ".1700000002000."),
      undefined,
      key,
      "bad-signature",
    ],
    [
      "another probe id, signed",
      signReply({ probeId: "AnOtHeR-probe-id-1", arrivedAtMs, headerLines }, key),
      undefined,
      key,
      "other-probe",
    ],
    [
      "an added Received hop",
      signature,
      { probeId, headerLines: ["Received: from totally.fake.hop", ...headerLines] },
      key,
      "bad-signature",
    ],
    ["an old version", `v1.${signature.slice(3)}`, undefined, key, "unsupported-version"],
    ["a field missing", signature.split(".").slice(0, 4).join("."), undefined, key, "malformed"],
    [
      "a made-up MAC",
      `${signature.slice(0, signature.lastIndexOf("."))}.forged`,
      undefined,
      key,
      "malformed",
    ],
    ["an absurd length", "v2.".padEnd(600, "a"), undefined, key, "malformed"],
  ])("refuses %s", (_name, text, expected, withKey: ProbeKey, reason) => {
    expect(reasonOf(text, expected ?? { probeId, headerLines }, withKey)).toBe(reason);
  });

  it("refuses to sign what could not be parsed back", () => {
    expect(() => signReply({ probeId: "short", arrivedAtMs, headerLines }, key)).toThrow(RangeError);
    expect(() => signReply({ probeId, arrivedAtMs: -1, headerLines }, key)).toThrow(RangeError);
    expect(() =>
      signReply({ probeId, arrivedAtMs, headerLines }, { id: "k1", key: Buffer.alloc(16) }),
    ).toThrow(RangeError);
  });
});

describe("reply signature version 3: the key id", () => {
  const k1: ProbeKey = { id: "k1", key: Buffer.alloc(32, 9) };
  const signed3 = signReply({ probeId, arrivedAtMs, headerLines }, k1);

  it("names and binds the key the token names", () => {
    expect(signed3).toMatch(
      /^v3\.k1\.PrObE_id-12345678\.1700000001000\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/,
    );
    expect(verifyReply(signed3, k1, { probeId, headerLines })).toEqual({ arrivedAtMs });
  });

  it("refuses a reply naming another key than the token's, even with that key's material", () => {
    expect(reasonOf(signed3, undefined, { id: "k2", key: k1.key })).toBe("other-key");
    expect(reasonOf(signed3, undefined, { id: LEGACY_KEY_ID, key: k1.key })).toBe("other-key");
  });

  it("refuses a changed key id as bad-signature", () => {
    const k2: ProbeKey = { id: "k2", key: k1.key };
    expect(reasonOf(signed3.replace("v3.k1.", "v3.k2."), undefined, k2)).toBe("bad-signature");
  });

  it("refuses a version 2 reply when the token names a key id", () => {
    const legacyFormat = signReply({ probeId, arrivedAtMs, headerLines }, { id: LEGACY_KEY_ID, key: k1.key });
    expect(reasonOf(legacyFormat, undefined, k1)).toBe("other-key");
  });
});
