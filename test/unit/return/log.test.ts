import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appendLog, formatLogLine } from "../../../return/log.ts";

const at = new Date(Date.UTC(2024, 4, 1, 10, 0, 0));

describe("return log", () => {
  it("writes one line per decision", () => {
    expect(
      formatLogLine({
        at,
        decision: "ignored",
        reason: "token-expired",
        probeId: "AbC",
        messageId: "<x@y>",
        detail: "old",
      }),
    ).toBe('2024-05-01T10:00:00.000Z ignored reason=token-expired probe=AbC message-id=<x@y> detail="old"\n');
    expect(formatLogLine({ at, decision: "replied", reason: "valid-probe" })).toBe(
      "2024-05-01T10:00:00.000Z replied reason=valid-probe probe=- message-id=-\n",
    );
  });

  it("keeps message-supplied values on one line", () => {
    const line = formatLogLine({
      at,
      decision: "ignored",
      reason: "x",
      messageId: "<a b\r\nc>",
      detail: "1\n2",
    });
    expect(line.split("\n")).toHaveLength(2);
    expect(line).toContain("message-id=<a_b??c>");
  });

  const dir = mkdtempSync(join(tmpdir(), "scout-log-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("appends to a 0600 file", () => {
    const path = join(dir, "return.log");
    appendLog(path, { at, decision: "replied", reason: "a" });
    appendLog(path, { at, decision: "ignored", reason: "b" });
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(3);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("never throws", () => {
    expect(() =>
      appendLog(join(dir, "no", "such", "dir.log"), { at, decision: "replied", reason: "a" }),
    ).not.toThrow();
    expect(() => appendLog(undefined, { at, decision: "replied", reason: "a" })).not.toThrow();
  });
});
