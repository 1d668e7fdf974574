import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sendWithSendmail } from "../../../return/sendmail.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-sendmail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const request = { recipient: "returns@x.example", message: "Subject: hi\n\nbody\n", timeoutMs: 30_000 };

describe("sendWithSendmail", () => {
  it("runs sendmail -oi -- <recipient> with the message on stdin", () => {
    const sendmail = script("ok", `printf '%s\\n' "$@" > "${dir}/argv"; cat > "${dir}/stdin"`);
    expect(sendWithSendmail({ ...request, sendmail })).toEqual({ ok: true });
    expect(readFileSync(join(dir, "argv"), "utf8")).toBe("-oi\n--\nreturns@x.example\n");
    expect(readFileSync(join(dir, "stdin"), "utf8")).toBe(request.message);
  });

  it("reports a non-zero exit with a little of its stderr", () => {
    const sendmail = script("fails", "cat >/dev/null; echo 'queue file write error' >&2; exit 75");
    expect(sendWithSendmail({ ...request, sendmail })).toEqual({
      ok: false,
      reason: "sendmail exited 75: queue file write error",
    });
  });

  it("reports a sendmail that exits without reading its input", () => {
    const sendmail = script("early", "exit 1");
    const result = sendWithSendmail({ ...request, sendmail, message: "x".repeat(1_000_000) });
    expect(result).toEqual({ ok: false, reason: "sendmail exited 1" });
  });

  it("reports a missing sendmail", () => {
    const sendmail = join(dir, "absent");
    expect(sendWithSendmail({ ...request, sendmail })).toEqual({
      ok: false,
      reason: `cannot run ${sendmail}: ENOENT`,
    });
  });

  it("kills a sendmail that hangs", () => {
    const sendmail = script("hangs", "exec sleep 60");
    expect(sendWithSendmail({ ...request, sendmail, timeoutMs: 300 })).toEqual({
      ok: false,
      reason: "sendmail timed out after 300 ms",
    });
  });

  it("takes a zero exit as sent even when the input was not all read (EPIPE)", () => {
    const sendmail = script("closes-stdin", "exec 0<&-; exit 0");
    expect(sendWithSendmail({ ...request, sendmail, message: "x".repeat(1_000_000) })).toEqual({ ok: true });
  });

  it("takes a zero exit as sent when a child of sendmail keeps its stderr open", () => {
    const sendmail = script("leaves-child", "cat >/dev/null; sleep 5 & exit 0");
    expect(sendWithSendmail({ ...request, sendmail, timeoutMs: 500 })).toEqual({ ok: true });
  });

  it("stops a sendmail that floods its stderr", () => {
    const sendmail = script("floods", "cat >/dev/null; yes 'queue trouble' >&2");
    const result = sendWithSendmail({ ...request, sendmail });
    expect(result).toMatchObject({ ok: false });
    expect(result.ok === false && result.reason).toMatch(
      /^sendmail was stopped after writing over 1048576 bytes to stderr: queue trouble/,
    );
  });
});
