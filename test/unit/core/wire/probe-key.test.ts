import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  formatProbeKeyRing,
  keyById,
  LEGACY_PROBE_KEY_PREFIX,
  newKeyId,
  newProbeKey,
  PROBE_KEY_PREFIX,
  ProbeKeyError,
  parseProbeKeyRing,
  signingKey,
} from "../../../../core/wire/probe-key.ts";
import { ProbeKeyFileError, readProbeKeyFile } from "../../../../core/wire/probe-key-file.ts";

const key = Buffer.alloc(32, 3);
const older = Buffer.alloc(32, 4);
const ring = [
  { id: "k2", key },
  { id: "k1", key: older },
] as const;

function errorOf(text: string): ProbeKeyError {
  try {
    parseProbeKeyRing(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ProbeKeyError);
    return error as ProbeKeyError;
  }
  throw new Error("expected parseProbeKeyRing to fail");
}

describe("probe key ring format", () => {
  it("round-trips, first key first, with comments saying what it is", () => {
    const text = formatProbeKeyRing(ring);
    expect(text).toMatch(/^# Email Scout probe keys/);
    expect(text).toMatch(/keep them secret, mode 0600/i);
    expect(text).toContain(
      `\n${PROBE_KEY_PREFIX}k2:${key.toString("base64url")}\n${PROBE_KEY_PREFIX}k1:${older.toString("base64url")}\n`,
    );
    const parsed = parseProbeKeyRing(text);
    expect(parsed).toEqual(ring);
    expect(signingKey(parsed)).toEqual({ id: "k2", key });
    expect(keyById(parsed, "k1")?.key).toEqual(older);
    expect(keyById(parsed, "k3")).toBeUndefined();
  });

  it("accepts blank lines, comments, CRLF and surrounding spaces, and longer keys", () => {
    const longer = Buffer.alloc(48, 9);
    const text = `\r\n# a comment\r\n\r\n  ${PROBE_KEY_PREFIX}a_B-9:${longer.toString("base64url")}  \r\n# trailing\r\n`;
    expect(parseProbeKeyRing(text)).toEqual([{ id: "a_B-9", key: longer }]);
  });

  it("reads a version 1 file as a ring of one key with the id v1", () => {
    const text = `# Email Scout probe key\n${LEGACY_PROBE_KEY_PREFIX}${key.toString("base64url")}\n`;
    expect(parseProbeKeyRing(text)).toEqual([{ id: "v1", key }]);
  });

  it("makes 32-byte random keys and dated, distinct key ids", () => {
    expect(newProbeKey()).toHaveLength(32);
    expect(newProbeKey()).not.toEqual(newProbeKey());
    const id = newKeyId(Date.UTC(2026, 11, 2, 23, 59));
    expect(id).toMatch(/^20261202-[A-Za-z0-9_-]{4}$/);
    expect(newKeyId(0)).not.toBe(newKeyId(0));
  });

  it("never quotes key material in an error", () => {
    const secret = Buffer.alloc(16, 0xab).toString("base64url");
    expect(errorOf(`${PROBE_KEY_PREFIX}k1:${secret}`).message).not.toContain(secret);
    expect(errorOf(`scout-key-v3:k1:${secret}`).message).not.toContain(secret);
  });

  const b64 = key.toString("base64url");
  it.each([
    ["empty", "", "no-key-line", "probe key file has no key line (expected scout-key-v2:<keyId>:<key>)"],
    [
      "only comments",
      "# nothing\n",
      "no-key-line",
      "probe key file has no key line (expected scout-key-v2:<keyId>:<key>)",
    ],
    [
      "wrong prefix",
      `scout-key-v3:k1:${b64}`,
      "wrong-prefix",
      "line 1: a probe key line must start with scout-key-v2: (or scout-key-v1:)",
    ],
    [
      "bare key",
      b64,
      "wrong-prefix",
      "line 1: a probe key line must start with scout-key-v2: (or scout-key-v1:)",
    ],
    [
      "no key id",
      `${PROBE_KEY_PREFIX}${b64}`,
      "bad-key-id",
      "line 1: expected scout-key-v2:<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _",
    ],
    [
      "an empty key id",
      `${PROBE_KEY_PREFIX}:${b64}`,
      "bad-key-id",
      "line 1: expected scout-key-v2:<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _",
    ],
    [
      "a key id with a dot",
      `${PROBE_KEY_PREFIX}k.1:${b64}`,
      "bad-key-id",
      "line 1: expected scout-key-v2:<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _",
    ],
    [
      "a key id of 33 characters",
      `${PROBE_KEY_PREFIX}${"k".repeat(33)}:${b64}`,
      "bad-key-id",
      "line 1: expected scout-key-v2:<keyId>:<key>, the key id 1-32 characters of A-Z a-z 0-9 - _",
    ],
    [
      "one key id twice",
      `${PROBE_KEY_PREFIX}k1:${b64}\n# older\n${PROBE_KEY_PREFIX}k1:${older.toString("base64url")}`,
      "duplicate-key-id",
      "line 3: key id k1 appears twice",
    ],
    [
      "a version 1 line beside a v1 key",
      `${PROBE_KEY_PREFIX}v1:${b64}\n${LEGACY_PROBE_KEY_PREFIX}${b64}`,
      "duplicate-key-id",
      "line 2: key id v1 appears twice",
    ],
    [
      "standard base64",
      `${PROBE_KEY_PREFIX}k1:${Buffer.alloc(32, 0xfb).toString("base64")}`,
      "bad-base64url",
      "line 1: the probe key is not base64url (A-Z a-z 0-9 - _, no padding)",
    ],
    [
      "empty key",
      `${PROBE_KEY_PREFIX}k1:`,
      "bad-base64url",
      "line 1: the probe key is not base64url (A-Z a-z 0-9 - _, no padding)",
    ],
    [
      "16 bytes, on line 2",
      `# c\n${PROBE_KEY_PREFIX}k1:${Buffer.alloc(16, 1).toString("base64url")}`,
      "too-short",
      "line 2: the probe key is 16 bytes, at least 32 are needed",
    ],
  ])("refuses %s", (_name, text, reason, message) => {
    expect(errorOf(text)).toMatchObject({ name: "ProbeKeyError", reason, message });
  });

  it("will not format an empty ring, a short key, a bad or repeated key id", () => {
    expect(() => formatProbeKeyRing([])).toThrow(RangeError);
    expect(() => formatProbeKeyRing([{ id: "k1", key: Buffer.alloc(8) }])).toThrow(RangeError);
    expect(() => formatProbeKeyRing([{ id: "k 1", key }])).toThrow(RangeError);
    expect(() =>
      formatProbeKeyRing([
        { id: "k1", key },
        { id: "k1", key: older },
      ]),
    ).toThrow(RangeError);
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

  function fileErrorOf(path: string): ProbeKeyFileError {
    try {
      readProbeKeyFile(path);
    } catch (error) {
      expect(error).toBeInstanceOf(ProbeKeyFileError);
      return error as ProbeKeyFileError;
    }
    throw new Error("expected readProbeKeyFile to fail");
  }

  it("reads a 0600 key file", () => {
    expect(readProbeKeyFile(keyFile("ok.key", formatProbeKeyRing(ring), 0o600))).toEqual(ring);
  });

  it("names a missing file", () => {
    const path = join(dir, "absent.key");
    expect(fileErrorOf(path)).toMatchObject({
      reason: "missing",
      path,
      message: `probe key file ${path} does not exist`,
    });
  });

  it.each([0o644, 0o640, 0o604, 0o660])("refuses mode %o and says chmod 600", (mode) => {
    const path = keyFile(`open-${mode.toString(8)}.key`, formatProbeKeyRing(ring), mode);
    const error = fileErrorOf(path);
    expect(error.reason).toBe("too-open");
    expect(error.message).toContain(path);
    expect(error.message).toContain(`chmod 600 ${path}`);
  });

  it("refuses a directory", () => {
    expect(fileErrorOf(dir).reason).toBe("unreadable");
  });

  it("names the file when its content is wrong", () => {
    const path = keyFile("bad.key", "not a key\n", 0o600);
    expect(fileErrorOf(path)).toMatchObject({
      reason: "invalid",
      message: `probe key file ${path}: line 1: a probe key line must start with scout-key-v2: (or scout-key-v1:)`,
    });
  });
});
