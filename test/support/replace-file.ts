import { renameSync, writeFileSync } from "node:fs";

/** Replaces a file whole (written aside, renamed over the old one), as certbot and other tooling do. */
export function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}
