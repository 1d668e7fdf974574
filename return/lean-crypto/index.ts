/*
 * The part of node:crypto that email_return uses (createHmac("sha256"), createHash("sha256"),
 * timingSafeEqual, randomBytes), without loading OpenSSL: scripts/build.mjs resolves "node:crypto" to this
 * file when it bundles dist/email_return.cjs, so the core's token code runs unchanged on the
 * mail server. Why: see sha256.ts. Everything else uses the real node:crypto.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { SHA256_BLOCK_BYTES, sha256 } from "./sha256.ts";

/** HMAC-SHA256 (RFC 2104) of `message` under `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Buffer {
  const block = new Uint8Array(SHA256_BLOCK_BYTES);
  block.set(key.length > SHA256_BLOCK_BYTES ? sha256(key) : key);
  const inner = new Uint8Array(SHA256_BLOCK_BYTES + message.length);
  const outer = new Uint8Array(SHA256_BLOCK_BYTES + 32);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
    inner[i] = (block[i] as number) ^ 0x36;
    outer[i] = (block[i] as number) ^ 0x5c;
  }
  inner.set(message, SHA256_BLOCK_BYTES);
  outer.set(sha256(inner), SHA256_BLOCK_BYTES);
  return Buffer.from(sha256(outer));
}

export interface LeanHmac {
  update(data: string | Uint8Array, encoding?: BufferEncoding): LeanHmac;
  /** Bytes only: an encoding (which node:crypto would honour) is refused, not ignored. */
  digest(encoding?: never): Buffer;
}

/** node:crypto's createHmac for "sha256" only; digest() returns bytes (no encodings). */
export function createHmac(algorithm: string, key: Uint8Array): LeanHmac {
  if (algorithm.toLowerCase() !== "sha256") {
    throw new Error(`email_return's crypto knows HMAC-SHA256 only, not ${algorithm}`);
  }
  const parts: Buffer[] = [];
  const hmac: LeanHmac = {
    update(data, encoding) {
      parts.push(typeof data === "string" ? Buffer.from(data, encoding) : Buffer.from(data));
      return hmac;
    },
    digest: (encoding?: unknown) => {
      if (encoding !== undefined) throw new Error("email_return's crypto returns HMAC digests as bytes only");
      return hmacSha256(key, Buffer.concat(parts));
    },
  };
  return hmac;
}

export interface LeanHash {
  update(data: string | Uint8Array, encoding?: BufferEncoding): LeanHash;
  /** Bytes only, like LeanHmac. */
  digest(encoding?: never): Buffer;
}

/** node:crypto's createHash for "sha256" only (the reply signature's header digest). */
export function createHash(algorithm: string): LeanHash {
  if (algorithm.toLowerCase() !== "sha256") {
    throw new Error(`email_return's crypto knows SHA-256 only, not ${algorithm}`);
  }
  const parts: Buffer[] = [];
  const hash: LeanHash = {
    update(data, encoding) {
      parts.push(typeof data === "string" ? Buffer.from(data, encoding) : Buffer.from(data));
      return hash;
    },
    digest: (encoding?: unknown) => {
      if (encoding !== undefined) throw new Error("email_return's crypto returns hash digests as bytes only");
      return Buffer.from(sha256(Buffer.concat(parts)));
    },
  };
  return hash;
}

/** Compares in time that depends on the length only; throws on different lengths, like Node. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError("Input buffers must have the same byte length");
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

/** Random bytes from the kernel (/dev/urandom: every system a mail server's pipe runs on). */
export function randomBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  const fd = openSync("/dev/urandom", "r");
  try {
    let filled = 0;
    while (filled < size) filled += readSync(fd, bytes, filled, size - filled, null);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
