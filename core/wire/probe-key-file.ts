import { type ProbeKeyRing, parseProbeKeyRing } from "./probe-key.ts";
import { readSecretFile, SecretFileError } from "./secret-file.ts";

export type ProbeKeyFileReason = "missing" | "unreadable" | "too-open" | "invalid";

/** The probe key file could not be used; the message names the path and what to do. */
export class ProbeKeyFileError extends Error {
  override readonly name = "ProbeKeyFileError";
  constructor(
    readonly reason: ProbeKeyFileReason,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Reads and parses a probe key file (a ring: core/wire/probe-key.ts). Synchronous on purpose: email_return reads it once, and a
 * sync read keeps its start-up simple. Refuses a file that its group or others may access
 * (readSecretFile, the rule every secret file follows): a readable key lets anyone forge probes.
 */
export function readProbeKeyFile(path: string): ProbeKeyRing {
  let text: string;
  try {
    text = readSecretFile(path, "probe key file");
  } catch (cause) {
    if (!(cause instanceof SecretFileError)) throw cause;
    const reason = cause.reason === "not-a-file" ? "unreadable" : cause.reason;
    throw new ProbeKeyFileError(reason, path, cause.message, { cause });
  }
  try {
    return parseProbeKeyRing(text);
  } catch (cause) {
    throw new ProbeKeyFileError("invalid", path, `probe key file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
