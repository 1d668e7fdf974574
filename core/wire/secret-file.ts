import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";

export type SecretFileReason = "missing" | "unreadable" | "not-a-file" | "too-open";

/** A secret file could not be used; the message names the file and what to do. */
export class SecretFileError extends Error {
  override readonly name = "SecretFileError";
  constructor(
    readonly reason: SecretFileReason,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Reads a file that holds a secret (probe key, dashboard token, webhook secret, password). One
 * rule for all of them: a file its group or others may access is refused, because whoever can
 * read it can forge probes or events, or log in. `what` names the file in messages, e.g.
 * "probe key file" or "dashboard.tokenFile: secret file". A symlink is followed (the operator
 * chose it), but the mode checked is the target's, on the descriptor that is then read.
 */
export function readSecretFile(path: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new SecretFileError("missing", path, `${what} ${path} does not exist`, { cause });
    if (code === "EISDIR") throw notAFile(path, what);
    throw new SecretFileError("unreadable", path, `${what} ${path} cannot be opened (${code})`, { cause });
  }
  try {
    // fstat on the open descriptor: the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notAFile(path, what);
    if ((stat.mode & 0o077) !== 0) throw tooOpen(path, what, stat.mode);
    return readFileSync(fd, "utf8");
  } catch (error) {
    if (error instanceof SecretFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SecretFileError("unreadable", path, `${what} ${path} cannot be read (${code})`, {
      cause: error,
    });
  } finally {
    closeSync(fd);
  }
}

function notAFile(path: string, what: string): SecretFileError {
  return new SecretFileError("not-a-file", path, `${what} ${path} is not a regular file`);
}

/** The one message shape for a secret others may read: the file, its mode and the fix. */
function tooOpen(path: string, what: string, mode: number): SecretFileError {
  const octal = (mode & 0o777).toString(8).padStart(4, "0");
  return new SecretFileError(
    "too-open",
    path,
    `${what} ${path} has mode ${octal}: group or others may read it; run: chmod 600 ${path}`,
  );
}
