import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";

/**
 * Reads a file that holds a secret (a webhook secret, the dashboard token). A file that group
 * or others may read is refused, with the chmod that fixes it: whoever can read the secret can
 * forge events or read the dashboard. Errors name `where` (the config key) and the path.
 */
export function readPrivateFile(path: string, where: string): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "does not exist" : `cannot be opened (${code})`;
    throw new Error(`${where}: secret file ${path} ${what}`, { cause });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${where}: secret file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
      throw new Error(
        `${where}: secret file ${path} has mode ${mode}: group or others may read it; run: chmod 600 ${path}`,
      );
    }
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
