import { randomBytes } from "node:crypto";

/*
 * The probe key file: a key ring, as text so it can be pasted, with comments allowed. Every line
 * that is neither blank nor a "#" comment is one key, named by its key id:
 *
 *   # Email Scout probe keys ...
 *   scout-key-v2:<keyId>:<base64url of 32 or more random bytes>
 *   scout-key-v2:<older keyId>:<...>
 *
 * The FIRST key signs new probes (and email_return's replies to them); every key in the ring is
 * accepted when a token names it, so a rotation adds a key in front and retires the old one
 * only once no probe signed with it can still come back. A token names its key by id, so the
 * monitor knows which key to check it with and whose key it is.
 *
 * A version 1 file (`scout-key-v1:<base64url>`, one key, no id) reads as a ring of one key with
 * the id "v1": the key of the tokens that name none (version 1 tokens, core/wire/probe-token.ts).
 */

export const PROBE_KEY_PREFIX = "scout-key-v2:";
export const LEGACY_PROBE_KEY_PREFIX = "scout-key-v1:";
/** The id a version 1 key file's key gets; version 1 tokens are checked with the key of this id. */
export const LEGACY_KEY_ID = "v1";
export const PROBE_KEY_BYTES = 32;
/** Key ids go into tokens and reply signatures: only characters that need no encoding there. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** One key of a ring. */
export interface ProbeKey {
  readonly id: string;
  readonly key: Buffer;
}

/** One or more keys, ids unique; the first signs. */
export type ProbeKeyRing = readonly [ProbeKey, ...ProbeKey[]];

export type ProbeKeyReason =
  | "no-key-line"
  | "wrong-prefix"
  | "bad-key-id"
  | "duplicate-key-id"
  | "bad-base64url"
  | "too-short";

/** The text is not a probe key file; `reason` says which rule it broke. The message never quotes a key. */
export class ProbeKeyError extends Error {
  override readonly name = "ProbeKeyError";
  constructor(
    readonly reason: ProbeKeyReason,
    message: string,
  ) {
    super(message);
  }
}

/** 32 fresh random bytes. */
export function newProbeKey(): Buffer {
  return randomBytes(PROBE_KEY_BYTES);
}

/** A fresh key id: the UTC day it was made (sorts, and says how old a key is) and 4 random characters. */
export function newKeyId(nowMs: number): string {
  const day = new Date(nowMs).toISOString().slice(0, 10).replaceAll("-", "");
  return `${day}-${randomBytes(3).toString("base64url")}`;
}

/** The key that signs new probes: the ring's first. */
export function signingKey(ring: ProbeKeyRing): ProbeKey {
  return ring[0];
}

/** The ring's key of this id, if it has one. */
export function keyById(ring: readonly ProbeKey[], id: string): ProbeKey | undefined {
  return ring.find((entry) => entry.id === id);
}

/** The keys in a probe key file's text (version 2 or 1). Throws ProbeKeyError. */
export function parseProbeKeyRing(text: string): ProbeKeyRing {
  const keys: ProbeKey[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const entry = parseKeyLine(line, index + 1);
    if (keyById(keys, entry.id) !== undefined) {
      throw new ProbeKeyError("duplicate-key-id", `line ${index + 1}: key id ${entry.id} appears twice`);
    }
    keys.push(entry);
  });
  const [first, ...rest] = keys;
  if (first === undefined) {
    throw new ProbeKeyError(
      "no-key-line",
      `probe key file has no key line (expected ${PROBE_KEY_PREFIX}<keyId>:<key>)`,
    );
  }
  return [first, ...rest];
}

/** The text of a probe key file holding `ring`, ready to write with mode 0600. */
export function formatProbeKeyRing(ring: readonly ProbeKey[]): string {
  if (ring.length === 0) throw new RangeError("a probe key ring holds at least one key");
  const ids = new Set<string>();
  for (const { id, key } of ring) {
    if (!KEY_ID_PATTERN.test(id)) throw new RangeError("a key id is 1-32 characters of [A-Za-z0-9_-]");
    if (ids.has(id)) throw new RangeError(`key id ${id} appears twice`);
    if (key.length < PROBE_KEY_BYTES) {
      throw new RangeError(`a probe key must be at least ${PROBE_KEY_BYTES} bytes`);
    }
    ids.add(id);
  }
  return [
    "# Email Scout probe keys: sign and check the X-Scout-Probe token of round-trip probes and",
    "# email_return's signed reply. Keep them secret, mode 0600. The first key signs new probes;",
    "# the others are still accepted (rotation: email-scout key add / key retire).",
    "# The monitor and the email_return of each target hold the same keys.",
    ...ring.map(({ id, key }) => `${PROBE_KEY_PREFIX}${id}:${key.toString("base64url")}`),
    "",
  ].join("\n");
}

function parseKeyLine(line: string, lineNumber: number): ProbeKey {
  const where = `line ${lineNumber}`;
  if (line.startsWith(LEGACY_PROBE_KEY_PREFIX)) {
    return { id: LEGACY_KEY_ID, key: decodeKey(line.slice(LEGACY_PROBE_KEY_PREFIX.length), where) };
  }
  if (!line.startsWith(PROBE_KEY_PREFIX)) {
    throw new ProbeKeyError(
      "wrong-prefix",
      `${where}: a probe key line must start with ${PROBE_KEY_PREFIX} (or ${LEGACY_PROBE_KEY_PREFIX})`,
    );
  }
  const rest = line.slice(PROBE_KEY_PREFIX.length);
  const colon = rest.indexOf(":");
  const id = colon < 0 ? "" : rest.slice(0, colon);
  if (!KEY_ID_PATTERN.test(id)) {
    throw new ProbeKeyError(
      "bad-key-id",
      `${where}: expected ${PROBE_KEY_PREFIX}<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _`,
    );
  }
  return { id, key: decodeKey(rest.slice(colon + 1), where) };
}

function decodeKey(encoded: string, where: string): Buffer {
  const key = Buffer.from(encoded, "base64url");
  // Buffer.from skips characters it does not know; insist on the one exact spelling.
  if (!/^[A-Za-z0-9_-]+$/.test(encoded) || key.toString("base64url") !== encoded) {
    throw new ProbeKeyError(
      "bad-base64url",
      `${where}: the probe key is not base64url (A-Z a-z 0-9 - _, no padding)`,
    );
  }
  if (key.length < PROBE_KEY_BYTES) {
    throw new ProbeKeyError(
      "too-short",
      `${where}: the probe key is ${key.length} bytes, at least ${PROBE_KEY_BYTES} are needed`,
    );
  }
  return key;
}
