import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createHash,
  createHmac,
  hmacSha256,
  randomBytes,
  timingSafeEqual,
} from "../../../return/lean-crypto/index.ts";
import { sha256 } from "../../../return/lean-crypto/sha256.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("sha256 (FIPS 180-4 examples)", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ])("digests %j", (text, digest) => {
    expect(hex(sha256(Buffer.from(text, "ascii")))).toBe(digest);
  });

  it("agrees with node:crypto at every length around the block and padding edges", () => {
    for (let length = 0; length <= 300; length++) {
      const data = nodeCrypto.randomBytes(length);
      expect(hex(sha256(data)), `length ${length}`).toBe(
        nodeCrypto.createHash("sha256").update(data).digest("hex"),
      );
    }
  });
});

describe("hmacSha256 (RFC 4231 test cases)", () => {
  const cases: Array<[string, Buffer, Buffer, string]> = [
    [
      "1",
      Buffer.alloc(20, 0x0b),
      Buffer.from("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      "2",
      Buffer.from("Jefe"),
      Buffer.from("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      "3",
      Buffer.alloc(20, 0xaa),
      Buffer.alloc(50, 0xdd),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      "6 (key longer than a block)",
      Buffer.alloc(131, 0xaa),
      Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
  ];
  it.each(cases)("test case %s", (_name, key, data, mac) => {
    expect(hex(hmacSha256(key, data))).toBe(mac);
  });

  it("agrees with node:crypto for probe-sized messages and keys of every size", () => {
    for (let keyLength = 0; keyLength <= 140; keyLength += 7) {
      for (const messageLength of [0, 1, 55, 56, 63, 64, 65, 119, 120, 200]) {
        const key = nodeCrypto.randomBytes(keyLength);
        const message = nodeCrypto.randomBytes(messageLength);
        expect(hex(hmacSha256(key, message))).toBe(
          nodeCrypto.createHmac("sha256", key).update(message).digest("hex"),
        );
      }
    }
  });
});

describe("createHmac (the part of node:crypto's API the token code uses)", () => {
  it("hashes text updates the way node:crypto does", () => {
    const key = nodeCrypto.randomBytes(32);
    const ours = createHmac("sha256", key).update("v1.abc", "ascii").update(".def").digest();
    const theirs = nodeCrypto.createHmac("sha256", key).update("v1.abc", "ascii").update(".def").digest();
    expect(Buffer.isBuffer(ours)).toBe(true);
    expect(ours.equals(theirs)).toBe(true);
  });

  it("refuses to encode a digest rather than ignore the encoding", () => {
    const hmac = createHmac("sha256", Buffer.alloc(32)).update("x") as unknown as {
      digest(e: string): unknown;
    };
    expect(() => hmac.digest("base64url")).toThrow(/bytes only/);
  });

  it("refuses any other algorithm by name", () => {
    expect(() => createHmac("sha1", Buffer.alloc(32))).toThrow(/HMAC-SHA256 only, not sha1/);
  });
});

describe("createHash (the reply signature's header digest)", () => {
  it("hashes UTF-8 text updates the way node:crypto does", () => {
    const text = "Received: from a.example (é) by b.example;\nX-Scout-Probe: v1.x";
    const ours = createHash("sha256").update(text, "utf8").update("tail").digest();
    const theirs = nodeCrypto.createHash("sha256").update(text, "utf8").update("tail").digest();
    expect(ours.equals(theirs)).toBe(true);
  });

  it("refuses to encode a digest, and any other algorithm", () => {
    const hash = createHash("sha256").update("x") as unknown as { digest(e: string): unknown };
    expect(() => hash.digest("hex")).toThrow(/bytes only/);
    expect(() => createHash("md5")).toThrow(/SHA-256 only, not md5/);
  });
});

describe("timingSafeEqual", () => {
  it("compares equal-length buffers", () => {
    expect(timingSafeEqual(Buffer.from("abcd"), Buffer.from("abcd"))).toBe(true);
    expect(timingSafeEqual(Buffer.from("abcd"), Buffer.from("abce"))).toBe(false);
    expect(timingSafeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });

  it("throws on different lengths, as node:crypto does", () => {
    expect(() => timingSafeEqual(Buffer.from("abc"), Buffer.from("abcd"))).toThrow(RangeError);
    expect(() => nodeCrypto.timingSafeEqual(Buffer.from("abc"), Buffer.from("abcd"))).toThrow(RangeError);
  });
});

describe("randomBytes", () => {
  it("returns fresh bytes of the size asked", () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    expect(randomBytes(0)).toHaveLength(0);
  });
});
