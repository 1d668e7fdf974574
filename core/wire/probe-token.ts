import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { KEY_ID_PATTERN, keyById, LEGACY_KEY_ID, type ProbeKey } from "./probe-key.ts";

/*
 * The probe token: the one place that writes and checks it. The monitor and email_return
 * (bundled into dist/email_return.cjs) both import this file, so they cannot disagree.
 *
 *   v2.<keyId>.<probeId>.<targetIdB64url>.<sentAtMs>.<macB64url>
 *   mac = base64url(HMAC-SHA256(key <keyId>, "v2.<keyId>.<probeId>.<targetIdB64url>.<sentAtMs>"))
 *
 * The key id names the key of the target's ring that signed it (core/wire/probe-key.ts), so the
 * checker knows which key to use, and the monitor can tell a token signed with another target's
 * key (wrong-key) from one signed with no key it knows (unknown-key).
 *
 * Version 1 (`v1.<probeId>.<targetIdB64url>.<sentAtMs>.<mac>`, mac over "v1.<...>") names no
 * key: it is the legacy key's (id "v1", a version 1 key file). A ring whose signing key is that
 * legacy key still writes version 1, so an email_return installed before key ids keeps answering
 * until the target's key is rotated; both versions are always read.
 *
 * Only [A-Za-z0-9_-] inside fields and "." between them, so MTAs that fold or re-encode the
 * X-Scout-Probe header cannot change its meaning; the parser drops all whitespace first
 * because folding inserts CRLF + SP/TAB wherever it likes.
 */

/** Why a token was refused; each reason is its own counter and log word. */
export type ProbeTokenReason =
  | "malformed"
  | "unsupported-version"
  | "bad-signature"
  | "expired"
  | "from-future"
  /** The key id is in another target's ring, not in the ring of the target the token names. */
  | "wrong-key"
  /** No ring holds the key id. */
  | "unknown-key";

/** A token was refused; `reason` says why. */
export class ProbeTokenError extends Error {
  override readonly name = "ProbeTokenError";
  constructor(
    readonly reason: ProbeTokenReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a token binds together. */
export interface ProbeTokenFields {
  probeId: string;
  targetId: string;
  sentAtMs: number;
}

/** A token that has the right shape; its MAC is not checked yet. */
export interface ParsedToken extends ProbeTokenFields {
  version: 1 | 2;
  /** The key that signed it; "v1" (LEGACY_KEY_ID) for a version 1 token. */
  keyId: string;
  /** The token with all whitespace removed: what to put back into a header. */
  token: string;
}

/** A token whose MAC matched and whose send time is within bounds. */
export type VerifiedToken = ParsedToken;

export interface VerifyOptions {
  nowMs: number;
  /** Older than this (now - sentAt) is 'expired'. */
  maxAgeMs: number;
  /** Newer than this (sentAt - now) is 'from-future': a clock may be off, but not by much. */
  maxFutureSkewMs: number;
}

const PROBE_ID = /^[A-Za-z0-9_-]{16,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const SENT_AT = /^(0|[1-9][0-9]{0,15})$/;
const MAC_BYTES = 32;
/** Keeps the whole token under 250 characters: 64 bytes are 86 base64url characters. */
export const MAX_TARGET_ID_BYTES = 64;
/** Refuse absurd input before doing any work on it. */
const MAX_INPUT_CHARS = 1024;
const MIN_KEY_BYTES = 32;

/** A fresh random probe id: 12 random bytes, 16 base64url characters. */
export function newProbeId(): string {
  return randomBytes(12).toString("base64url");
}

/** Writes a signed token. Throws RangeError for fields that could not be parsed back. */
/**
 * Writes a token signed with `signing`: version 2 naming its key id, or version 1 when the key is
 * the legacy key (see the file comment). Throws RangeError for fields that could not be parsed back.
 */
export function createProbeToken(fields: ProbeTokenFields, signing: ProbeKey): string {
  checkKey(signing.key);
  if (!KEY_ID_PATTERN.test(signing.id))
    throw new RangeError("the key id must be 1-32 characters of [A-Za-z0-9_-]");
  checkProbeIdentity(fields);
  if (!Number.isSafeInteger(fields.sentAtMs) || fields.sentAtMs < 0) {
    throw new RangeError("sentAtMs must be a non-negative integer");
  }
  const targetB64 = Buffer.from(fields.targetId, "utf8").toString("base64url");
  const signed =
    signing.id === LEGACY_KEY_ID
      ? `v1.${fields.probeId}.${targetB64}.${fields.sentAtMs}`
      : `v2.${signing.id}.${fields.probeId}.${targetB64}.${fields.sentAtMs}`;
  return `${signed}.${mac(signing.key, signed).toString("base64url")}`;
}

/** Throws RangeError unless the probe id and target id can go into a token and parse back. */
export function checkProbeIdentity(fields: Pick<ProbeTokenFields, "probeId" | "targetId">): void {
  if (!PROBE_ID.test(fields.probeId)) {
    throw new RangeError("probeId must be 16-32 characters of [A-Za-z0-9_-]");
  }
  const targetBytes = Buffer.byteLength(fields.targetId, "utf8");
  if (fields.targetId.length === 0 || targetBytes > MAX_TARGET_ID_BYTES) {
    throw new RangeError(`targetId must be 1-${MAX_TARGET_ID_BYTES} bytes of UTF-8`);
  }
}

/** Reads a token's fields without checking its MAC. Throws ProbeTokenError. */
export function parseProbeToken(text: string): ParsedToken {
  return parseParts(text).parsed;
}

/**
 * Checks a token with the key of a ring that its key id names (email_return holds one ring, its
 * target's): a key id the ring lacks is 'unknown-key'. Throws ProbeTokenError.
 */
export function verifyProbeTokenWithRing(
  text: string,
  ring: readonly ProbeKey[],
  options: VerifyOptions,
): VerifiedToken & { key: ProbeKey } {
  const { keyId } = parseProbeToken(text);
  const key = keyById(ring, keyId);
  if (key === undefined) {
    throw new ProbeTokenError(
      "unknown-key",
      `probe token names key ${keyId}, which this key file does not hold`,
    );
  }
  return { ...verifyProbeToken(text, key.key, options), key };
}

/**
 * Parses and checks a token with `key`, the key its key id names (the caller looks it up):
 * shape, then MAC (timing-safe), then age. Throws ProbeTokenError.
 */
export function verifyProbeToken(text: string, key: Buffer, options: VerifyOptions): VerifiedToken {
  checkKey(key);
  const { parsed, signed, macBytes } = parseParts(text);
  // The MAC comes before the clock checks: a forged token is 'bad-signature', whatever its age.
  if (!timingSafeEqual(mac(key, signed), macBytes)) {
    throw new ProbeTokenError("bad-signature", "probe token signature does not match");
  }
  const ageMs = options.nowMs - parsed.sentAtMs;
  if (ageMs > options.maxAgeMs) {
    throw new ProbeTokenError("expired", `probe token is ${ageMs} ms old (limit ${options.maxAgeMs} ms)`);
  }
  if (-ageMs > options.maxFutureSkewMs) {
    throw new ProbeTokenError(
      "from-future",
      `probe token is ${-ageMs} ms in the future (limit ${options.maxFutureSkewMs} ms)`,
    );
  }
  return parsed;
}

function parseParts(text: string): { parsed: ParsedToken; signed: string; macBytes: Buffer } {
  if (typeof text !== "string" || text.length > MAX_INPUT_CHARS) {
    throw malformed("not a string of reasonable length");
  }
  const token = text.replace(/[\r\n\t ]/g, "");
  const parts = token.split(".");
  const version = parts[0] ?? "";
  if (version !== "v1" && version !== "v2") {
    if (/^v[0-9]+$/.test(version)) {
      throw new ProbeTokenError("unsupported-version", `probe token version ${version} is not supported`);
    }
    throw malformed("does not start with a version");
  }
  const expected = version === "v1" ? 5 : 6;
  if (parts.length !== expected) throw malformed(`has ${parts.length} fields, expected ${expected}`);
  // A version 1 token names no key: it is the legacy key's.
  const keyId = version === "v1" ? LEGACY_KEY_ID : (parts[1] ?? "");
  const [probeId = "", targetB64 = "", sentAt = "", macB64 = ""] = parts.slice(version === "v1" ? 1 : 2);
  if (!KEY_ID_PATTERN.test(keyId)) throw malformed("bad key id");
  if (!PROBE_ID.test(probeId)) throw malformed("bad probe id");
  const targetId = decodeTargetId(targetB64);
  if (!SENT_AT.test(sentAt) || !Number.isSafeInteger(Number(sentAt))) throw malformed("bad send time");
  const macBytes = decodeCanonical(macB64);
  if (macBytes === undefined || macBytes.length !== MAC_BYTES) throw malformed("bad MAC field");
  return {
    parsed: { version: version === "v1" ? 1 : 2, keyId, probeId, targetId, sentAtMs: Number(sentAt), token },
    signed: parts.slice(0, -1).join("."),
    macBytes,
  };
}

function decodeTargetId(b64: string): string {
  const bytes = decodeCanonical(b64);
  if (bytes === undefined || bytes.length === 0 || bytes.length > MAX_TARGET_ID_BYTES) {
    throw malformed("bad target id");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw malformed("target id is not UTF-8", cause);
  }
}

/** base64url without padding, and only the one spelling that encodes back to itself. */
function decodeCanonical(b64: string): Buffer | undefined {
  if (!B64URL.test(b64)) return undefined;
  const bytes = Buffer.from(b64, "base64url");
  return bytes.toString("base64url") === b64 ? bytes : undefined;
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac("sha256", key).update(signed, "ascii").digest();
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new RangeError(`the probe key must be at least ${MIN_KEY_BYTES} bytes`);
  }
}

function malformed(detail: string, cause?: unknown): ProbeTokenError {
  return new ProbeTokenError("malformed", `malformed probe token: ${detail}`, { cause });
}
