import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** The secret file was not written; the message names the file and why. */
export class SecretFileWriteError extends Error {
  override readonly name = "SecretFileWriteError";
  constructor(
    readonly reason: "exists" | "is-a-directory" | "io",
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Writes a secret so that `path` always ends as a regular file of mode 0600 with the whole text:
 * a temporary file is created beside it (O_EXCL, 0600), synced, then moved into place. With
 * `replace`, rename(2) swaps whatever is at `path`: an existing file of any mode, or a symlink
 * (the link itself, never its target, dangling or not). Without it, link(2) refuses atomically
 * when anything is there. Returns the mode the file really has.
 */
export function writeSecretFile(path: string, text: string, options: { replace: boolean }): number {
  try {
    return writeThroughTemporary(path, text, options);
  } catch (cause) {
    if (cause instanceof SecretFileWriteError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw exists(path);
    if (code === "EISDIR") throw isDirectory(path);
    throw new SecretFileWriteError("io", path, `cannot write ${path} (${code ?? cause})`, { cause });
  }
}

function writeThroughTemporary(path: string, text: string, options: { replace: boolean }): number {
  const existing = lstatOrUndefined(path);
  if (existing?.isDirectory()) {
    throw isDirectory(path);
  }
  if (existing && !options.replace) throw exists(path);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fd = openSync(temporary, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.replace) renameSync(temporary, path);
    else linkSync(temporary, path);
    syncDirectory(dir);
  } finally {
    // After rename the temporary name is gone; after link (or a failure) it is removed here.
    if (lstatOrUndefined(temporary)) unlinkSync(temporary);
  }
  return statSync(path).mode & 0o777;
}

function isDirectory(path: string): SecretFileWriteError {
  return new SecretFileWriteError("is-a-directory", path, `${path} is a directory; name a file`);
}

function exists(path: string): SecretFileWriteError {
  return new SecretFileWriteError("exists", path, `${path} exists`);
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The rename is durable only once the directory entry is on disk too. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
