import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createProbeToken,
  MAX_TARGET_ID_BYTES,
  newProbeId,
  ProbeTokenError,
  type ProbeTokenReason,
  parseProbeToken,
  verifyProbeToken,
} from "../../../../core/wire/probe-token.ts";

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
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
    const token = createProbeToken({ ...fields, targetId }, key);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    const verified = verifyProbeToken(token, key, limits);
    expect(verified).toEqual({ version: 1, probeId: fields.probeId, targetId, sentAtMs, token });
    expect(parseProbeToken(token)).toEqual(verified);
  });

  it("stays under 200 characters with the longest ids", () => {
    const token = createProbeToken(
      { probeId: "x".repeat(32), targetId: "t".repeat(MAX_TARGET_ID_BYTES), sentAtMs: 9_999_999_999_999 },
      key,
    );
    expect(token.length).toBeLessThan(200);
  });

  it("matches the documented MAC construction", () => {
    const token = createProbeToken(fields, key);
    const body = `v1.${fields.probeId}.${Buffer.from(fields.targetId).toString("base64url")}.${sentAtMs}`;
    expect(token).toBe(signed(body));
  });

  it("verifies after folding: CRLF + space or tab inserted anywhere", () => {
    const token = createProbeToken(fields, key);
    const folded = `${token.slice(0, 10)}\r\n ${token.slice(10, 40)}\r\n\t${token.slice(40)} \n`;
    expect(verifyProbeToken(folded, key, limits).token).toBe(token);
  });

  it.each([
    ["probe id", 1, "ZZZZbbbbCCCCdddd"],
    ["target id", 2, Buffer.from("mx2.example.com").toString("base64url")],
    ["send time", 3, String(sentAtMs + 1)],
    ["mac", 4, createProbeToken({ ...fields, probeId: "ZZZZbbbbCCCCdddd" }, key).split(".")[4] ?? ""],
  ])("refuses a tampered %s as bad-signature", (_name, index, value) => {
    const parts = createProbeToken(fields, key).split(".");
    parts[index] = value;
    expect(reasonOf(() => verifyProbeToken(parts.join("."), key, limits))).toBe("bad-signature");
  });

  it("refuses a token signed with another key", () => {
    const token = createProbeToken(fields, otherKey);
    expect(reasonOf(() => verifyProbeToken(token, key, limits))).toBe("bad-signature");
  });

  it("checks age and future skew at their bounds", () => {
    const token = createProbeToken(fields, key);
    const at = (nowMs: number) => reasonOf(() => verifyProbeToken(token, key, { ...limits, nowMs }));
    expect(at(sentAtMs + limits.maxAgeMs)).toBe("no error");
    expect(at(sentAtMs + limits.maxAgeMs + 1)).toBe("expired");
    expect(at(sentAtMs - limits.maxFutureSkewMs)).toBe("no error");
    expect(at(sentAtMs - limits.maxFutureSkewMs - 1)).toBe("from-future");
  });

  it("says bad-signature, not expired, for an old forged token", () => {
    const token = createProbeToken(fields, otherKey);
    const nowMs = sentAtMs + 10 * limits.maxAgeMs;
    expect(reasonOf(() => verifyProbeToken(token, key, { ...limits, nowMs }))).toBe("bad-signature");
  });

  const good = createProbeToken(fields, key);
  const [, probeId, target, sentAt, mac] = good.split(".");
  it.each<[string, string, ProbeTokenReason]>([
    ["empty", "", "malformed"],
    ["only whitespace", " \r\n\t", "malformed"],
    ["no version", `${probeId}.${target}.${sentAt}.${mac}`, "malformed"],
    ["upper-case version", good.replace(/^v1/, "V1"), "malformed"],
    ["version 2", good.replace(/^v1/, "v2"), "unsupported-version"],
    ["version 2 with other fields", "v2.whatever", "unsupported-version"],
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
    expect(() => createProbeToken({ ...fields, probeId: "short" }, key)).toThrow(RangeError);
    expect(() => createProbeToken({ ...fields, targetId: "" }, key)).toThrow(RangeError);
    expect(() => createProbeToken({ ...fields, sentAtMs: 1.5 }, key)).toThrow(RangeError);
    expect(() => createProbeToken(fields, Buffer.alloc(16))).toThrow(RangeError);
  });

  it("makes fresh 16-character probe ids", () => {
    const ids = new Set(Array.from({ length: 100 }, newProbeId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
