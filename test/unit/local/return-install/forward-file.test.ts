import { describe, expect, it } from "vitest";
import {
  forwardLine,
  withoutReturnLine,
  withReturnLine,
} from "../../../../local/return-install/forward-file.ts";

const LINE = forwardLine(
  "/usr/bin/node",
  "/home/p/.email-scout/email_return.cjs",
  "/home/p/.email-scout/return.json",
);

describe(".forward editing", () => {
  it("writes an absolute, quoted pipe line", () => {
    expect(LINE).toBe(
      '"|/usr/bin/node /home/p/.email-scout/email_return.cjs --config /home/p/.email-scout/return.json"',
    );
  });

  it("leaves the interpreter to the script's #! line when given none (email_return.pl)", () => {
    expect(
      forwardLine(undefined, "/home/p/.email-scout/email_return.pl", "/home/p/.email-scout/return.json"),
    ).toBe('"|/home/p/.email-scout/email_return.pl --config /home/p/.email-scout/return.json"');
    expect(() => forwardLine(undefined, "/home/p/my dir/email_return.pl", "/c")).toThrow("has a space");
  });

  it("refuses paths a .forward line cannot carry", () => {
    expect(() => forwardLine("/opt/my node/node", "/s", "/c")).toThrow("has a space, quote or backslash");
  });

  it("keeps existing lines and never doubles its own", () => {
    const once = withReturnLine("alice@example.com\n", LINE);
    expect(once).toBe(`alice@example.com\n${LINE}\n`);
    expect(withReturnLine(once, LINE)).toBe(once);
  });

  it("puts \\user first with --keep-copy, once", () => {
    const text = withReturnLine(withReturnLine("", LINE, "p"), LINE, "p");
    expect(text).toBe(`\\p\n${LINE}\n`);
  });

  it("uninstall removes only its line", () => {
    expect(withoutReturnLine(`alice@example.com\n${LINE}\n`, "p")).toEqual({
      text: "alice@example.com\n",
      removed: true,
    });
    expect(withoutReturnLine(`\\p\n${LINE}\n`, "p")).toEqual({ text: undefined, removed: true });
    expect(withoutReturnLine("alice@example.com\n", "p")).toEqual({
      text: "alice@example.com\n",
      removed: false,
    });
  });
});
