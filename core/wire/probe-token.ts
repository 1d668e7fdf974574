import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/*
 * The probe token: the one place that writes and checks it. The monitor and email_return
 * (bundled into dist/email_return.cjs) both import this file, so they cannot disagree.
 *
 *   v1.<probeId>.<targetIdB64url>.<sentAtMs>.<macB64url>
 *   mac = base64url(HMAC-SHA256(key, "v1.<probeId>.<targetIdB64url>.<sentAtMs>"))
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
  | "from-future";

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
  version: 1;
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

const VERSION = "v1";
const PROBE_ID = /^[A-Za-z0-9_-]{16,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const SENT_AT = /^(0|[1-9][0-9]{0,15})$/;
const MAC_BYTES = 32;
/** Keeps the whole token under 200 characters: 64 bytes are 86 base64url characters. */
export const MAX_TARGET_ID_BYTES = 64;
/** Refuse absurd input before doing any work on it. */
const MAX_INPUT_CHARS = 1024;
const MIN_KEY_BYTES = 32;

/** A fresh random probe id: 12 random bytes, 16 base64url characters. */
export function newProbeId(): string {
  return randomBytes(12).toString("base64url");
}

/** Writes a signed token. Throws RangeError for fields that could not be parsed back. */
export function createProbeToken(fields: ProbeTokenFields, key: Buffer): string {
  checkKey(key);
  checkProbeIdentity(fields);
  if (!Number.isSafeInteger(fields.sentAtMs) || fields.sentAtMs < 0) {
    throw new RangeError("sentAtMs must be a non-negative integer");
  }
  const targetBytes = Buffer.from(fields.targetId, "utf8");
  const signed = `${VERSION}.${fields.probeId}.${targetBytes.toString("base64url")}.${fields.sentAtMs}`;
  return `${signed}.${mac(key, signed).toString("base64url")}`;
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

/** Parses and checks a token: shape, then MAC (timing-safe), then age. Throws ProbeTokenError. */
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
  if (version !== VERSION) {
    if (/^v[0-9]+$/.test(version)) {
      throw new ProbeTokenError("unsupported-version", `probe token version ${version} is not supported`);
    }
    throw malformed("does not start with a version");
  }
  if (parts.length !== 5) throw malformed(`has ${parts.length} fields, expected 5`);
  const [, probeId = "", targetB64 = "", sentAt = "", macB64 = ""] = parts;
  if (!PROBE_ID.test(probeId)) throw malformed("bad probe id");
  const targetId = decodeTargetId(targetB64);
  if (!SENT_AT.test(sentAt) || !Number.isSafeInteger(Number(sentAt))) throw malformed("bad send time");
  const macBytes = decodeCanonical(macB64);
  if (macBytes === undefined || macBytes.length !== MAC_BYTES) throw malformed("bad MAC field");
  return {
    parsed: { version: 1, probeId, targetId, sentAtMs: Number(sentAt), token },
    signed: `${VERSION}.${probeId}.${targetB64}.${sentAt}`,
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
