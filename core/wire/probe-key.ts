import { randomBytes } from "node:crypto";

/*
 * The probe key file: text, so it can be pasted, with comments allowed. The first line that is
 * neither blank nor a "#" comment is the key:
 *
 *   # Email Scout probe key ...
 *   scout-key-v1:<base64url of 32 random bytes>
 */

export const PROBE_KEY_PREFIX = "scout-key-v1:";
export const PROBE_KEY_BYTES = 32;

export type ProbeKeyReason = "no-key-line" | "wrong-prefix" | "bad-base64url" | "too-short";

/** The text is not a probe key file; `reason` says which rule it broke. */
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

/** The key in a probe key file's text. Throws ProbeKeyError. */
export function parseProbeKeyFile(text: string): Buffer {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== "" && !l.startsWith("#"));
  if (line === undefined) {
    throw new ProbeKeyError(
      "no-key-line",
      `probe key file has no key line (expected ${PROBE_KEY_PREFIX}...)`,
    );
  }
  if (!line.startsWith(PROBE_KEY_PREFIX)) {
    throw new ProbeKeyError("wrong-prefix", `probe key line must start with ${PROBE_KEY_PREFIX}`);
  }
  const encoded = line.slice(PROBE_KEY_PREFIX.length);
  const key = Buffer.from(encoded, "base64url");
  // Buffer.from skips characters it does not know; insist on the one exact spelling.
  if (!/^[A-Za-z0-9_-]+$/.test(encoded) || key.toString("base64url") !== encoded) {
    throw new ProbeKeyError("bad-base64url", "probe key is not base64url (A-Z a-z 0-9 - _, no padding)");
  }
  if (key.length < PROBE_KEY_BYTES) {
    throw new ProbeKeyError(
      "too-short",
      `probe key is ${key.length} bytes, at least ${PROBE_KEY_BYTES} are needed`,
    );
  }
  return key;
}

/** The text of a probe key file for `key`, ready to write with mode 0600. */
export function formatProbeKeyFile(key: Buffer): string {
  if (key.length < PROBE_KEY_BYTES) {
    throw new RangeError(`a probe key must be at least ${PROBE_KEY_BYTES} bytes`);
  }
  return [
    "# Email Scout probe key: signs and checks the X-Scout-Probe token of round-trip probes.",
    "# Keep it secret, mode 0600; the monitor and every email_return must hold the same key.",
    `${PROBE_KEY_PREFIX}${key.toString("base64url")}`,
    "",
  ].join("\n");
}
