import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSecretFile, SecretFileError } from "../../../../core/wire/secret-file.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secret(name: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, "s3cret\n");
  chmodSync(path, mode);
  return path;
}

function failure(path: string): SecretFileError {
  try {
    readSecretFile(path, "password file");
  } catch (error) {
    if (error instanceof SecretFileError) return error;
    throw error;
  }
  throw new Error(`${path} was read`);
}

describe("readSecretFile", () => {
  it("reads a 0600 file and a 0400 file", () => {
    expect(readSecretFile(secret("ok", 0o600), "password file")).toBe("s3cret\n");
    expect(readSecretFile(secret("read-only", 0o400), "password file")).toBe("s3cret\n");
  });

  it.each([0o644, 0o640, 0o604, 0o620, 0o660])("refuses mode %o, naming the file and the fix", (mode) => {
    const path = secret(`open-${mode.toString(8)}`, mode);
    const error = failure(path);
    expect(error.reason).toBe("too-open");
    expect(error.message).toBe(
      `password file ${path} has mode 0${mode.toString(8)}: group or others may read it; run: chmod 600 ${path}`,
    );
  });

  it("follows a symlink and checks its target's mode", () => {
    const target = secret("target", 0o644);
    const link = join(dir, "link");
    symlinkSync(target, link);
    expect(failure(link).message).toContain(`run: chmod 600 ${link}`);
    chmodSync(target, 0o600);
    expect(readSecretFile(link, "password file")).toBe("s3cret\n");
  });

  it("names a missing file, a dangling symlink and a directory", () => {
    expect(failure(join(dir, "none")).message).toBe(`password file ${join(dir, "none")} does not exist`);
    const dangling = join(dir, "dangling");
    symlinkSync(join(dir, "gone"), dangling);
    expect(failure(dangling).reason).toBe("missing");
    const folder = join(dir, "folder");
    mkdirSync(folder, { mode: 0o700 });
    expect(failure(folder).message).toBe(`password file ${folder} is not a regular file`);
  });
});
