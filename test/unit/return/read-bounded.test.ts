import { spawn } from "node:child_process";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBounded } from "../../../return/read-bounded.ts";

const CHILD = join(import.meta.dirname, "../../fixtures/read-stdin-child.ts");

interface ChildResult {
  readonly lines: string[];
  readonly result: unknown;
}

/**
 * Runs read-stdin-child.ts under a shell, so fd 0 can be a pipe, as from an MTA, or closed. The input is written
 * at once, or (writeAfter) only when the child prints that line.
 */
function readInChild(
  args: string[],
  options: { input?: Buffer; shellStdin?: string; writeAfter?: string } = {},
): Promise<ChildResult> {
  // Through cat, fd 0 is a real pipe (Node gives children a socket pair).
  const command = `cat | exec "$0" --import tsx "$1" "$2" "$3" ${options.shellStdin ?? ""}`;
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command, process.execPath, CHILD, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.writeAfter !== undefined && stdout.startsWith(`${options.writeAfter}\n`)) {
        options.writeAfter = undefined;
        child.stdin.end(options.input);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`child exited ${code}: ${stderr}`));
      const lines = stdout.trim().split("\n");
      resolve({ lines: lines.slice(0, -1), result: JSON.parse(lines.at(-1) ?? "null") });
    });
    if (options.writeAfter === undefined) child.stdin.end(options.input);
  });
}

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

describe("readBoundedFd", () => {
  const big = Buffer.concat([Buffer.from("Subject: x"), Buffer.alloc(3 * 1024 * 1024, "y")]);

  it("reads a pipe to its end with blocking reads, keeping maxBytes", async () => {
    const child = await readInChild(["blocking", "1000"], { input: big });
    expect(child).toEqual({
      lines: [],
      result: { totalBytes: big.length, truncated: true, keptBytes: 1000, head: "Subject: x" },
    });
  });

  it("reads the rest through the fallback stream when the descriptor is non-blocking", async () => {
    const child = await readInChild(["nonblocking", "5000000"], { input: big, writeAfter: "eagain" });
    expect(child).toEqual({
      lines: ["eagain"],
      result: { totalBytes: big.length, truncated: false, keptBytes: big.length, head: "Subject: x" },
    });
  });

  it("reads a closed standard input as an empty message", async () => {
    const child = await readInChild(["blocking", "1000"], { shellStdin: "<&-" });
    expect(child).toEqual({
      lines: [],
      result: { totalBytes: 0, truncated: false, keptBytes: 0, head: "" },
    });
  });
});
