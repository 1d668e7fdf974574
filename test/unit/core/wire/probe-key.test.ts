import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  formatProbeKeyFile,
  newProbeKey,
  PROBE_KEY_PREFIX,
  ProbeKeyError,
  parseProbeKeyFile,
} from "../../../../core/wire/probe-key.ts";
import { ProbeKeyFileError, readProbeKeyFile } from "../../../../core/wire/probe-key-file.ts";

const key = Buffer.alloc(32, 3);

describe("probe key file format", () => {
  it("round-trips, with comments saying what it is", () => {
    const text = formatProbeKeyFile(key);
    expect(text).toMatch(/^# Email Scout probe key/);
    expect(text).toMatch(/keep it secret, mode 0600/i);
    expect(text).toContain(`\n${PROBE_KEY_PREFIX}${key.toString("base64url")}\n`);
    expect(parseProbeKeyFile(text)).toEqual(key);
  });

  it("accepts blank lines, comments, CRLF and surrounding spaces, and longer keys", () => {
    const longer = Buffer.alloc(48, 9);
    const text = `\r\n# a comment\r\n\r\n  ${PROBE_KEY_PREFIX}${longer.toString("base64url")}  \r\n# trailing\r\n`;
    expect(parseProbeKeyFile(text)).toEqual(longer);
  });

  it("makes 32-byte random keys", () => {
    expect(newProbeKey()).toHaveLength(32);
    expect(newProbeKey()).not.toEqual(newProbeKey());
  });

  it.each([
    ["empty", "", "no-key-line", "probe key file has no key line (expected scout-key-v1:...)"],
    [
      "only comments",
      "# nothing\n",
      "no-key-line",
      "probe key file has no key line (expected scout-key-v1:...)",
    ],
    [
      "wrong prefix",
      `scout-key-v2:${key.toString("base64url")}`,
      "wrong-prefix",
      "probe key line must start with scout-key-v1:",
    ],
    ["bare key", key.toString("base64url"), "wrong-prefix", "probe key line must start with scout-key-v1:"],
    [
      "standard base64",
      `${PROBE_KEY_PREFIX}${Buffer.alloc(32, 0xfb).toString("base64")}`,
      "bad-base64url",
      "probe key is not base64url (A-Z a-z 0-9 - _, no padding)",
    ],
    [
      "empty key",
      PROBE_KEY_PREFIX,
      "bad-base64url",
      "probe key is not base64url (A-Z a-z 0-9 - _, no padding)",
    ],
    [
      "16 bytes",
      `${PROBE_KEY_PREFIX}${Buffer.alloc(16, 1).toString("base64url")}`,
      "too-short",
      "probe key is 16 bytes, at least 32 are needed",
    ],
  ])("refuses %s", (_name, text, reason, message) => {
    let error: unknown;
    try {
      parseProbeKeyFile(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProbeKeyError);
    expect(error).toMatchObject({ name: "ProbeKeyError", reason, message });
  });

  it("will not format a short key", () => {
    expect(() => formatProbeKeyFile(Buffer.alloc(8))).toThrow(RangeError);
  });
});

describe("readProbeKeyFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "scout-key-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function keyFile(name: string, text: string, mode: number): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  }

  function errorOf(path: string): ProbeKeyFileError {
    try {
      readProbeKeyFile(path);
    } catch (error) {
      expect(error).toBeInstanceOf(ProbeKeyFileError);
      return error as ProbeKeyFileError;
    }
    throw new Error("expected readProbeKeyFile to fail");
  }

  it("reads a 0600 key file", () => {
    expect(readProbeKeyFile(keyFile("ok.key", formatProbeKeyFile(key), 0o600))).toEqual(key);
  });

  it("names a missing file", () => {
    const path = join(dir, "absent.key");
    expect(errorOf(path)).toMatchObject({
      reason: "missing",
      path,
      message: `probe key file ${path} does not exist`,
    });
  });

  it.each([0o644, 0o640, 0o604, 0o660])("refuses mode %o and says chmod 600", (mode) => {
    const path = keyFile(`open-${mode.toString(8)}.key`, formatProbeKeyFile(key), mode);
    const error = errorOf(path);
    expect(error.reason).toBe("too-open");
    expect(error.message).toContain(path);
    expect(error.message).toContain(`chmod 600 ${path}`);
  });

  it("refuses a directory", () => {
    expect(errorOf(dir).reason).toBe("unreadable");
  });

  it("names the file when its content is wrong", () => {
    const path = keyFile("bad.key", "not a key\n", 0o600);
    expect(errorOf(path)).toMatchObject({
      reason: "invalid",
      message: `probe key file ${path}: probe key line must start with scout-key-v1:`,
    });
  });
});
