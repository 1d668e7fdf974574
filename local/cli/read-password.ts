import { readFileSync, statSync } from "node:fs";
import { Secret } from "../../core/basics/secret.ts";

export class PasswordSourceError extends Error {
  override readonly name = "PasswordSourceError";
}

/** Reads a password from a file (first line; a trailing newline is not part of it). */
export function readPasswordFile(path: string): Secret {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PasswordSourceError(
      `cannot read password file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const password = text.split(/\r?\n/)[0] ?? "";
  if (!password) throw new PasswordSourceError(`password file ${path} is empty`);
  return new Secret(password);
}

/** True when a file can be read by users other than its owner (mode & 0o044). */
export function isReadableByOthers(path: string): boolean {
  return (statSync(path).mode & 0o044) !== 0;
}

export function readPasswordEnv(name: string, env: NodeJS.ProcessEnv): Secret {
  const value = env[name];
  if (!value) throw new PasswordSourceError(`environment variable ${name} is not set or empty`);
  return new Secret(value);
}
