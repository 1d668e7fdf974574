import { Secret } from "../../core/basics/secret.ts";
import { readSecretFile } from "../../core/wire/secret-file.ts";

export class PasswordSourceError extends Error {
  override readonly name = "PasswordSourceError";
}

/**
 * Reads a password from a file (first line; a trailing newline is not part of it). Like every
 * secret file, one that group or others may read is refused (readSecretFile).
 */
export function readPasswordFile(path: string): Secret {
  let text: string;
  try {
    text = readSecretFile(path, "password file");
  } catch (cause) {
    throw new PasswordSourceError((cause as Error).message, { cause });
  }
  const password = text.split(/\r?\n/)[0] ?? "";
  if (!password) throw new PasswordSourceError(`password file ${path} is empty`);
  return new Secret(password);
}

export function readPasswordEnv(name: string, env: NodeJS.ProcessEnv): Secret {
  const value = env[name];
  if (!value) throw new PasswordSourceError(`environment variable ${name} is not set or empty`);
  return new Secret(value);
}
