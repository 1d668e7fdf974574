import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LEGACY_KEY_ID } from "../../../../core/wire/probe-key.ts";
import {
  createProbeToken,
  MAX_TARGET_ID_BYTES,
  newProbeId,
  ProbeTokenError,
  type ProbeTokenReason,
  parseProbeToken,
  verifyProbeToken,
  verifyProbeTokenWithRing,
} from "../../../../core/wire/probe-token.ts";

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
/** The legacy key (a version 1 key file): it writes version 1 tokens, which these first cases pin down. */
const legacy = { id: LEGACY_KEY_ID, key };
const sentAtMs = 1_700_000_000_000;
const fields = { probeId: "AAAAbbbbCCCCdddd", targetId: "mx1.example.com", sentAtMs };
const limits = { nowMs: sentAtMs + 5_000, maxAgeMs: 86_400_000, maxFutureSkewMs: 600_000 };

function reasonOf(run: () => unknown): ProbeTokenReason | "no error" {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProbeTokenError);
    expect((error as ProbeTokenError).name).toBe("ProbeTokenError");
    return (error as ProbeTokenError).reason;
  }
  return "no error";
}

/** Re-signs a hand-made token body, to build tokens with a valid MAC but odd fields. */
function signed(body: string): string {
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

describe("probe token", () => {
  it("round-trips all fields, any target name", () => {
    const targetId = "Mail host №1 / 東京";
    const token = createProbeToken({ ...fields, targetId }, legacy);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    const verified = verifyProbeToken(token, key, limits);
    expect(verified).toEqual({ version: 1, keyId: "v1", probeId: fields.probeId, targetId, sentAtMs, token });
    expect(parseProbeToken(token)).toEqual(verified);
  });

  it("stays under 250 characters with the longest ids", () => {
    const token = createProbeToken(
      { probeId: "x".repeat(32), targetId: "t".repeat(MAX_TARGET_ID_BYTES), sentAtMs: 9_999_999_999_999 },
      { id: "k".repeat(32), key },
    );
    expect(token.length).toBeLessThan(250);
  });

  it("matches the documented MAC construction", () => {
    const token = createProbeToken(fields, legacy);
    const body = `v1.${fields.probeId}.${Buffer.from(fields.targetId).toString("base64url")}.${sentAtMs}`;
    expect(token).toBe(signed(body));
  });

  it("verifies after folding: CRLF + space or tab inserted anywhere", () => {
    const token = createProbeToken(fields, legacy);
    const folded = `${token.slice(0, 10)}\r\n ${token.slice(10, 40)}\r\n\t${token.slice(40)} \n`;
    expect(verifyProbeToken(folded, key, limits).token).toBe(token);
  });

  it.each([
    ["probe id", 1, "ZZZZbbbbCCCCdddd"],
    ["target id", 2, Buffer.from("mx2.example.com").toString("base64url")],
    ["send time", 3, String(sentAtMs + 1)],
    ["mac", 4, createProbeToken({ ...fields, probeId: "ZZZZbbbbCCCCdddd" }, legacy).split(".")[4] ?? ""],
  ])("refuses a tampered %s as bad-signature", (_name, index, value) => {
    const parts = createProbeToken(fields, legacy).split(".");
    parts[index] = value;
    expect(reasonOf(() => verifyProbeToken(parts.join("."), key, limits))).toBe("bad-signature");
  });

  it("refuses a token signed with another key", () => {
    const token = createProbeToken(fields, { id: LEGACY_KEY_ID, key: otherKey });
    expect(reasonOf(() => verifyProbeToken(token, key, limits))).toBe("bad-signature");
  });

  it("checks age and future skew at their bounds", () => {
    const token = createProbeToken(fields, legacy);
    const at = (nowMs: number) => reasonOf(() => verifyProbeToken(token, key, { ...limits, nowMs }));
    expect(at(sentAtMs + limits.maxAgeMs)).toBe("no error");
    expect(at(sentAtMs + limits.maxAgeMs + 1)).toBe("expired");
    expect(at(sentAtMs - limits.maxFutureSkewMs)).toBe("no error");
    expect(at(sentAtMs - limits.maxFutureSkewMs - 1)).toBe("from-future");
  });

  it("says bad-signature, not expired, for an old forged token", () => {
    const token = createProbeToken(fields, { id: LEGACY_KEY_ID, key: otherKey });
    const nowMs = sentAtMs + 10 * limits.maxAgeMs;
    expect(reasonOf(() => verifyProbeToken(token, key, { ...limits, nowMs }))).toBe("bad-signature");
  });

  const good = createProbeToken(fields, legacy);
  const [, probeId, target, sentAt, mac] = good.split(".");
  it.each<[string, string, ProbeTokenReason]>([
    ["empty", "", "malformed"],
    ["only whitespace", " \r\n\t", "malformed"],
    ["no version", `${probeId}.${target}.${sentAt}.${mac}`, "malformed"],
    ["upper-case version", good.replace(/^v1/, "V1"), "malformed"],
    ["version 3", good.replace(/^v1/, "v3"), "unsupported-version"],
    ["version 3 with other fields", "v3.whatever", "unsupported-version"],
    ["version 2 with version 1's fields", good.replace(/^v1/, "v2"), "malformed"],
    ["four fields", `v1.${probeId}.${target}.${sentAt}`, "malformed"],
    ["six fields", `${good}.extra`, "malformed"],
    ["empty field", `v1.${probeId}..${sentAt}.${mac}`, "malformed"],
    ["short probe id", signed(`v1.abc.${target}.${sentAt}`), "malformed"],
    ["long probe id", signed(`v1.${"a".repeat(33)}.${target}.${sentAt}`), "malformed"],
    ["probe id with +", signed(`v1.AAAA+bbbCCCCdddd.${target}.${sentAt}`), "malformed"],
    ["target id padded", signed(`v1.${probeId}.${target}=.${sentAt}`), "malformed"],
    [
      "target id not UTF-8",
      signed(`v1.${probeId}.${Buffer.from([0xff, 0xfe]).toString("base64url")}.1`),
      "malformed",
    ],
    [
      "target id too long",
      signed(`v1.${probeId}.${Buffer.alloc(65, 97).toString("base64url")}.1`),
      "malformed",
    ],
    ["send time with leading zero", signed(`v1.${probeId}.${target}.0${sentAt}`), "malformed"],
    ["negative send time", signed(`v1.${probeId}.${target}.-1`), "malformed"],
    ["send time in exponent form", signed(`v1.${probeId}.${target}.1e12`), "malformed"],
    ["send time past 2^53", signed(`v1.${probeId}.${target}.9999999999999999`), "malformed"],
    ["short mac", `v1.${probeId}.${target}.${sentAt}.${mac?.slice(0, 42)}`, "malformed"],
    ["mac in standard base64", `v1.${probeId}.${target}.${sentAt}.${mac?.slice(0, 42)}/`, "malformed"],
    ["huge input", `${good}${" ".repeat(2000)}`, "malformed"],
  ])("refuses %s as %s", (_name, text, reason) => {
    expect(reasonOf(() => parseProbeToken(text))).toBe(reason);
    expect(reasonOf(() => verifyProbeToken(text, key, limits))).toBe(reason);
  });

  it("refuses to create tokens it could not parse back", () => {
    expect(() => createProbeToken({ ...fields, probeId: "short" }, legacy)).toThrow(RangeError);
    expect(() => createProbeToken({ ...fields, targetId: "" }, legacy)).toThrow(RangeError);
    expect(() => createProbeToken({ ...fields, sentAtMs: 1.5 }, legacy)).toThrow(RangeError);
    expect(() => createProbeToken(fields, { id: "k1", key: Buffer.alloc(16) })).toThrow(RangeError);
  });

  it("makes fresh 16-character probe ids", () => {
    const ids = new Set(Array.from({ length: 100 }, newProbeId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe("probe token version 2: the key id", () => {
  const k1 = { id: "k1", key };

  it("names its key and binds it: the documented construction", () => {
    const token = createProbeToken(fields, k1);
    const body = `v2.k1.${fields.probeId}.${Buffer.from(fields.targetId).toString("base64url")}.${sentAtMs}`;
    expect(token).toBe(signed(body));
    expect(verifyProbeToken(token, key, limits)).toEqual({ version: 2, keyId: "k1", ...fields, token });
  });

  it("refuses a token whose key id was changed, as bad-signature", () => {
    const parts = createProbeToken(fields, k1).split(".");
    parts[1] = "k2";
    expect(reasonOf(() => verifyProbeToken(parts.join("."), key, limits))).toBe("bad-signature");
  });

  it("a version 1 MAC cannot be turned into a version 2 token", () => {
    const [, ...rest] = createProbeToken(fields, legacy).split(".");
    expect(reasonOf(() => verifyProbeToken(["v2", "v1", ...rest].join("."), key, limits))).toBe(
      "bad-signature",
    );
  });

  it.each([
    ["no key id", `v2..${fields.probeId}.x.1.${"A".repeat(43)}`],
    ["a key id too long", `v2.${"k".repeat(33)}.${fields.probeId}.eA.1.${"A".repeat(43)}`],
    ["five fields", `v2.${fields.probeId}.eA.1.${"A".repeat(43)}`],
  ])("refuses %s as malformed", (_name, text) => {
    expect(reasonOf(() => parseProbeToken(text))).toBe("malformed");
  });

  it("checks against a ring with the key the token names; a key id the ring lacks is unknown-key", () => {
    const ring = [{ id: "new", key: otherKey }, k1];
    const token = createProbeToken(fields, k1);
    expect(verifyProbeTokenWithRing(token, ring, limits).key).toBe(k1);
    expect(reasonOf(() => verifyProbeTokenWithRing(token, [{ id: "new", key: otherKey }], limits))).toBe(
      "unknown-key",
    );
    // Same id, other material: the MAC decides.
    expect(reasonOf(() => verifyProbeTokenWithRing(token, [{ id: "k1", key: otherKey }], limits))).toBe(
      "bad-signature",
    );
    // A version 1 token is checked with the ring's legacy key "v1".
    const old = createProbeToken(fields, legacy);
    expect(verifyProbeTokenWithRing(old, [k1, legacy], limits).key).toBe(legacy);
    expect(reasonOf(() => verifyProbeTokenWithRing(old, ring, limits))).toBe("unknown-key");
  });

  it("refuses a key id it could not parse back", () => {
    expect(() => createProbeToken(fields, { id: "a.b", key })).toThrow(RangeError);
  });
});
