import { describe, expect, it } from "vitest";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HEADER_BLOCK_BEGIN,
  HEADER_BLOCK_END,
  WRAP_AT,
} from "../../../../core/wire/header-block.ts";

describe("header block in a return body", () => {
  it("carries ordinary lines verbatim between the markers", () => {
    const lines = ["Received: from a", "\tby b; Tue, 28 Nov 2023", "Subject: x"];
    expect(encodeHeaderBlock(lines)).toEqual([HEADER_BLOCK_BEGIN, ...lines, HEADER_BLOCK_END]);
  });

  it.each([
    ["a 2500-character line", [`X-Long: ${"a".repeat(2492)}`, "Next: 1"]],
    ["a line of exactly WRAP_AT", ["b".repeat(WRAP_AT)]],
    ["a line one over WRAP_AT", ["c".repeat(WRAP_AT + 1)]],
    ["lines that look like markers", ["\\+not a piece", "----- end -----", "\\\\x", "-----x"]],
    ["a long line starting with a backslash", [`\\${"d".repeat(2000)}`]],
    ["an empty block", []],
  ])("round-trips %s, no line over 998", (_name, lines) => {
    const body = ["Intro", "", ...encodeHeaderBlock(lines), "trailer"].join("\r\n");
    expect(Math.max(...body.split("\r\n").map((l) => l.length))).toBeLessThanOrEqual(WRAP_AT + 2);
    expect(decodeHeaderBlock(body)).toEqual(lines);
  });

  it("wraps with \\+ continuation lines", () => {
    expect(encodeHeaderBlock(["x".repeat(WRAP_AT + 5)])).toEqual([
      HEADER_BLOCK_BEGIN,
      "x".repeat(WRAP_AT),
      "\\+xxxxx",
      HEADER_BLOCK_END,
    ]);
  });

  it("finds no block in a body without both markers", () => {
    expect(decodeHeaderBlock("hello")).toBeUndefined();
    expect(decodeHeaderBlock(`${HEADER_BLOCK_BEGIN}\nA: 1\n`)).toBeUndefined();
  });
});
