import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import type { SystemUser } from "./system-user.ts";

/*
 * `return install` runs as root and writes into a mailbox user's home, where the user decides
 * what every name is. A plain write follows a symbolic link the user put there (~/.forward ->
 * /etc/shadow, ~/.email-scout -> /etc), so root would overwrite, chown or read whatever the link
 * names. Here nothing is followed: directories and files are opened with O_NOFOLLOW, new content
 * goes to a fresh name created with O_EXCL and is renamed over the old one (rename replaces a link,
 * never its target), and ownership and mode are set through the open descriptor.
 */

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;

/** A path the installer refuses to write through; the message names it and the fix. */
export class UnsafePathError extends Error {
  override readonly name = "UnsafePathError";
}

/** Makes `path` a real directory owned by `user` with `mode`, refusing a link or anything else there. */
export function ensureOwnedDirectory(path: string, user: SystemUser, mode: number): void {
  try {
    mkdirSync(path, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR") throw unsafe(path, "is a symbolic link or not a directory");
    throw error;
  }
  try {
    fchownSync(fd, user.uid, user.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with a new regular file holding `content`, owned by `user`, with `mode`. */
export function writeOwnedFile(path: string, content: string | Buffer, user: SystemUser, mode: number): void {
  const temporary = `${path}.new-${randomBytes(6).toString("hex")}`;
  const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fchownSync(fd, user.uid, user.gid);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/** The text of `path` if it is a regular file, undefined if it does not exist; a link is refused. */
export function readOwnFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw unsafe(path, "is a symbolic link");
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw unsafe(path, "is not a regular file");
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** True when something (a file, or a link, which is removed as itself) is at `path`. */
export function presentAt(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function unsafe(path: string, what: string): UnsafePathError {
  return new UnsafePathError(
    `${path} ${what}: return install runs as root and does not write through it; remove it (as the mailbox user) and run again`,
  );
}
