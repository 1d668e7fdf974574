import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { parseProbeKeyFile } from "./probe-key.ts";

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
 * Reads and parses a probe key file. Synchronous on purpose: email_return reads it once, and a
 * sync read keeps its start-up simple. Refuses a file that its group or others may access:
 * a readable key lets anyone forge probes.
 */
export function readProbeKeyFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ProbeKeyFileError("missing", path, `probe key file ${path} does not exist`, { cause });
    }
    throw new ProbeKeyFileError("unreadable", path, `cannot open probe key file ${path}: ${code}`, { cause });
  }
  try {
    // fstat on the open descriptor: the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new ProbeKeyFileError("unreadable", path, `probe key file ${path} is not a regular file`);
    }
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
      throw new ProbeKeyFileError(
        "too-open",
        path,
        `probe key file ${path} has mode ${mode}: group or others may access it; run: chmod 600 ${path}`,
      );
    }
    const text = readFileSync(fd, "utf8");
    try {
      return parseProbeKeyFile(text);
    } catch (cause) {
      throw new ProbeKeyFileError("invalid", path, `probe key file ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
  } catch (error) {
    if (error instanceof ProbeKeyFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProbeKeyFileError("unreadable", path, `cannot read probe key file ${path}: ${code}`, {
      cause: error,
    });
  } finally {
    closeSync(fd);
  }
}
