import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBounded } from "../../../lambdas/return/read-bounded.ts";

describe("readBounded", () => {
  it("keeps everything under the bound", async () => {
    const input = await readBounded(Readable.from([Buffer.from("abc"), Buffer.from("def")]), 10);
    expect(input).toEqual({ data: Buffer.from("abcdef"), totalBytes: 6, truncated: false });
  });

  it("keeps the first maxBytes, counts and drops the rest", async () => {
    const chunks = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, 48 + (i % 10)));
    const input = await readBounded(Readable.from(chunks), 2500);
    expect(input.totalBytes).toBe(100_000);
    expect(input.truncated).toBe(true);
    expect(input.data.toString()).toBe(`${"0".repeat(1000)}${"1".repeat(1000)}${"2".repeat(500)}`);
  });

  it("reads an empty stream", async () => {
    expect(await readBounded(Readable.from([]), 10)).toEqual({
      data: Buffer.alloc(0),
      totalBytes: 0,
      truncated: false,
    });
  });
});
