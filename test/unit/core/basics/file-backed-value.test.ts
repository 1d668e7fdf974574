import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileBackedValue } from "../../../../core/basics/file-backed-value.ts";

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), "scout-file-value-"));
  const path = join(dir, "value.txt");
  writeFileSync(path, "one");
  let nowMs = 0;
  const reads: string[] = [];
  const value = new FileBackedValue(
    [path],
    ([file]) => {
      const text = readFileSync(file as string, "utf8");
      if (text === "bad") throw new Error("cannot use it");
      reads.push(text);
      return text;
    },
    { statIntervalMs: 1_000, now: () => nowMs },
  );
  return { dir, path, value, reads, advance: (ms: number) => (nowMs += ms) };
}

describe("FileBackedValue", () => {
  it("reads once, and not again while the file is unchanged", () => {
    const { value, reads, advance } = setUp();
    expect(value.current()).toBe("one");
    advance(5_000);
    expect(value.current()).toBe("one");
    expect(reads).toEqual(["one"]);
    expect(value.revision).toBe(1);
  });

  it("reads a file replaced by rename, once the stat interval has passed", () => {
    const { dir, path, value, advance } = setUp();
    value.current();
    writeFileSync(join(dir, "next.txt"), "two");
    renameSync(join(dir, "next.txt"), path);
    advance(999);
    expect(value.current()).toBe("one");
    advance(1);
    expect(value.current()).toBe("two");
    expect(value.revision).toBe(2);
  });

  it("reads a file rewritten in place with the same size", () => {
    const { path, value, advance } = setUp();
    value.current();
    writeFileSync(path, "eno");
    advance(1_000);
    expect(value.current()).toBe("eno");
  });

  it("throws while the new content is unusable or gone, and recovers", () => {
    const { path, value, advance } = setUp();
    value.current();
    writeFileSync(path, "bad");
    advance(1_000);
    expect(() => value.current()).toThrow("cannot use it");
    // Until the next look, the same error without touching the disk: the file is fixed meanwhile.
    writeFileSync(path, "fine");
    advance(500);
    expect(() => value.current()).toThrow("cannot use it");
    advance(500);
    rmSync(path);
    expect(() => value.current()).toThrow(/ENOENT/);
    writeFileSync(path, "three");
    advance(1_000);
    expect(value.current()).toBe("three");
  });
});
