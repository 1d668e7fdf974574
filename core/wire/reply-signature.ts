import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { KEY_ID_PATTERN, LEGACY_KEY_ID, type ProbeKey } from "./probe-key.ts";

/*
 * The reply signature: how email_return proves that a return came from it, not from someone
 * who only copied the probe's token (the token is in every probe, so it proves nothing about
 * who answered). email_return writes it, the correlator checks it; both import this file.
 *
 *   X-Scout-Reply: v3.<keyId>.<probeId>.<arrivedAtMs>.<headerBlockSha256B64url>.<macB64url>
 *   mac = base64url( HMAC-SHA256(key <keyId>, "scout-reply.v3.<keyId>.<probeId>.<arrivedAtMs>.<headerBlockSha256B64url>") )
 *   headerBlockSha256 = SHA-256 of the reported header lines joined by "\n" (UTF-8)
 *
 * The key is the one the probe's token names (core/wire/probe-token.ts), and its id is signed
 * too, so a reply can only be checked with, and only count for, that key. Answering a version 1
 * token (the legacy key "v1", which names no id) email_return writes version 2, the same
 * without the key id: `v2.<probeId>.<arrivedAtMs>.<digest>.<mac>`, mac over
 * "scout-reply.v2.<...>". The return format's version stays X-Scout-Return-Version: 2 (version 1
 * returns carried no signature). The signed text starts "scout-reply." so a reply MAC can never
 * be taken for a token MAC (those sign "v1."/"v2." ...) or the other way round.
 */

export const REPLY_HEADER = "X-Scout-Reply";
const SIGNED_PREFIX = "scout-reply";
const PROBE_ID = /^[A-Za-z0-9_-]{16,32}$/;
const ARRIVED_AT = /^(0|[1-9][0-9]{0,15})$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const DIGEST_BYTES = 32;
const MAX_INPUT_CHARS = 512;
const MIN_KEY_BYTES = 32;

/** What a reply signature binds together. */
export interface ReplyFacts {
  probeId: string;
  /** When the probe reached the remote server, by its clock (ms since epoch). */
  arrivedAtMs: number;
  /** The header lines the reply reports in its body, as email_return encoded them. */
  headerLines: readonly string[];
}

export type ReplySignatureReason =
  | "malformed"
  | "unsupported-version"
  | "bad-signature"
  | "other-probe"
  /** Signed with (or naming) another key than the one the probe's token names. */
  | "other-key";

/** A reply signature was refused; `reason` says why. */
export class ReplySignatureError extends Error {
  override readonly name = "ReplySignatureError";
  constructor(
    readonly reason: ReplySignatureReason,
    message: string,
  ) {
    super(message);
  }
}

/** The value of the X-Scout-Reply header for `facts`, signed with `signing` (the key the token names). */
export function signReply(facts: ReplyFacts, signing: ProbeKey): string {
  checkKey(signing.key);
  if (!KEY_ID_PATTERN.test(signing.id))
    throw new RangeError("the key id must be 1-32 characters of [A-Za-z0-9_-]");
  if (!PROBE_ID.test(facts.probeId))
    throw new RangeError("probeId must be 16-32 characters of [A-Za-z0-9_-]");
  if (!Number.isSafeInteger(facts.arrivedAtMs) || facts.arrivedAtMs < 0) {
    throw new RangeError("arrivedAtMs must be a non-negative integer");
  }
  const facts3 = `${facts.probeId}.${facts.arrivedAtMs}.${headerBlockDigest(facts.headerLines)}`;
  const fields = signing.id === LEGACY_KEY_ID ? `v2.${facts3}` : `v3.${signing.id}.${facts3}`;
  return `${fields}.${mac(signing.key, fields).toString("base64url")}`;
}

/**
 * Checks a reply signature with `key`, the key the probe's token names, against the probe it
 * must answer and the header lines the reply carries; returns the remote arrival time it signs.
 * Throws ReplySignatureError.
 */
export function verifyReply(
  text: string,
  key: ProbeKey,
  expected: { probeId: string; headerLines: readonly string[] },
): { arrivedAtMs: number } {
  checkKey(key.key);
  if (typeof text !== "string" || text.length > MAX_INPUT_CHARS) throw malformed("not of reasonable length");
  const parts = text.replace(/[\r\n\t ]/g, "").split(".");
  const version = parts[0] ?? "";
  if (version !== "v2" && version !== "v3") {
    if (/^v[0-9]+$/.test(version)) {
      throw new ReplySignatureError(
        "unsupported-version",
        `reply signature version ${version} is not supported`,
      );
    }
    throw malformed("does not start with a version");
  }
  const expectedFields = version === "v2" ? 5 : 6;
  if (parts.length !== expectedFields)
    throw malformed(`has ${parts.length} fields, expected ${expectedFields}`);
  // Version 2 names no key: the legacy key's, like a version 1 token.
  const keyId = version === "v2" ? LEGACY_KEY_ID : (parts[1] ?? "");
  const [probeId = "", arrivedAt = "", digest = "", macB64 = ""] = parts.slice(version === "v2" ? 1 : 2);
  if (!KEY_ID_PATTERN.test(keyId)) throw malformed("bad key id");
  if (!PROBE_ID.test(probeId)) throw malformed("bad probe id");
  if (!ARRIVED_AT.test(arrivedAt) || !Number.isSafeInteger(Number(arrivedAt)))
    throw malformed("bad arrival time");
  if (decodeCanonical(digest)?.length !== DIGEST_BYTES) throw malformed("bad header digest");
  const macBytes = decodeCanonical(macB64);
  if (macBytes?.length !== DIGEST_BYTES) throw malformed("bad MAC field");
  if (keyId !== key.id) {
    throw new ReplySignatureError("other-key", `reply signature names key ${keyId}, the token key ${key.id}`);
  }
  const fields = parts.slice(0, -1).join(".");
  // The MAC first: whatever else is wrong, a reply the key did not sign is 'bad-signature'.
  if (!timingSafeEqual(mac(key.key, fields), macBytes)) {
    throw new ReplySignatureError("bad-signature", "reply signature does not match");
  }
  if (probeId !== expected.probeId) {
    throw new ReplySignatureError("other-probe", `reply signature is for probe ${probeId}`);
  }
  if (digest !== headerBlockDigest(expected.headerLines)) {
    throw new ReplySignatureError("bad-signature", "the reported header block is not the one signed");
  }
  return { arrivedAtMs: Number(arrivedAt) };
}

/** base64url SHA-256 of the header lines joined by "\n". */
export function headerBlockDigest(lines: readonly string[]): string {
  return createHash("sha256").update(lines.join("\n"), "utf8").digest().toString("base64url");
}

function mac(key: Buffer, fields: string): Buffer {
  return createHmac("sha256", key).update(`${SIGNED_PREFIX}.${fields}`, "ascii").digest();
}

function decodeCanonical(b64: string): Buffer | undefined {
  if (!B64URL.test(b64)) return undefined;
  const bytes = Buffer.from(b64, "base64url");
  return bytes.toString("base64url") === b64 ? bytes : undefined;
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new RangeError(`the probe key must be at least ${MIN_KEY_BYTES} bytes`);
  }
}

function malformed(detail: string): ReplySignatureError {
  return new ReplySignatureError("malformed", `malformed reply signature: ${detail}`);
}
