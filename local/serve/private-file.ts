import { readSecretFile } from "../../core/wire/secret-file.ts";

/**
 * Reads a secret file named by a config key (a webhook secret, the dashboard token) with the
 * rule every secret file follows (readSecretFile): refused when group or others may read it.
 * Errors name `where` (the config key) and the path.
 */
export function readPrivateFile(path: string, where: string): string {
  return readSecretFile(path, `${where}: secret file`);
}
