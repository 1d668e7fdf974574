import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, validateConfig } from "../../../return/config.ts";

const minimal = {
  returnTo: "returns@scout-returns.example.com",
  keyFile: "/home/probe/.email-scout/probe.key",
};

function problemsOf(value: unknown): { problems: string[]; logFile: string | undefined } {
  try {
    validateConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { problems: (error as ConfigError).problems, logFile: (error as ConfigError).logFile };
  }
  throw new Error("expected validateConfig to fail");
}

describe("return.json", () => {
  it("fills in defaults", () => {
    expect(validateConfig(minimal)).toEqual({
      ...minimal,
      sendmail: "/usr/sbin/sendmail",
      maxBytes: 1_048_576,
      maxAgeSeconds: 86_400,
    });
  });

  it("takes every key", () => {
    const full = {
      ...minimal,
      sendmail: "/usr/lib/sendmail",
      maxBytes: 65_536,
      maxAgeSeconds: 3600,
      logFile: "/home/probe/.email-scout/return.log",
      from: "probe@mx1.example.com",
    };
    expect(validateConfig(full)).toEqual(full);
  });

  it.each<[string, unknown, string[]]>([
    ["not an object", [], ["the configuration must be a JSON object"]],
    ["null", null, ["the configuration must be a JSON object"]],
    ["empty", {}, ['"returnTo" is required', '"keyFile" is required']],
    ["an unknown key", { ...minimal, replyTo: "x@y.example" }, ['unknown key "replyTo"']],
    [
      "returnTo with a name",
      { ...minimal, returnTo: "R <r@x.example>" },
      ['"returnTo" must be a plain address like returns@example.com'],
    ],
    [
      "returnTo with a newline",
      { ...minimal, returnTo: "r@x.example\nBcc: a@b.example" },
      ['"returnTo" must be a plain address like returns@example.com'],
    ],
    [
      "returnTo that is an option",
      { ...minimal, returnTo: "-fevil@x.example" },
      ['"returnTo" must be a plain address like returns@example.com'],
    ],
    ["a relative keyFile", { ...minimal, keyFile: "probe.key" }, ['"keyFile" must be an absolute path']],
    ["sendmail by name", { ...minimal, sendmail: "sendmail" }, ['"sendmail" must be an absolute path']],
    [
      "maxBytes too small",
      { ...minimal, maxBytes: 100 },
      ['"maxBytes" must be an integer from 4096 to 67108864'],
    ],
    [
      "maxBytes as a string",
      { ...minimal, maxBytes: "1M" },
      ['"maxBytes" must be an integer from 4096 to 67108864'],
    ],
    [
      "maxAgeSeconds fractional",
      { ...minimal, maxAgeSeconds: 60.5 },
      ['"maxAgeSeconds" must be an integer from 60 to 2592000'],
    ],
    [
      "maxAgeSeconds too large",
      { ...minimal, maxAgeSeconds: 2_592_001 },
      ['"maxAgeSeconds" must be an integer from 60 to 2592000'],
    ],
    ["a relative logFile", { ...minimal, logFile: "return.log" }, ['"logFile" must be an absolute path']],
    [
      "from that is no address",
      { ...minimal, from: "probe" },
      ['"from" must be a plain address like probe@example.com'],
    ],
  ])("refuses %s", (_name, value, problems) => {
    expect(problemsOf(value).problems).toEqual(problems);
  });

  it("still says where to log when other keys are wrong", () => {
    expect(problemsOf({ logFile: "/var/tmp/r.log", bogus: 1 })).toEqual({
      problems: ['unknown key "bogus"', '"returnTo" is required', '"keyFile" is required'],
      logFile: "/var/tmp/r.log",
    });
    expect(problemsOf({ logFile: "relative.log" }).logFile).toBeUndefined();
  });

  describe("loadConfig", () => {
    const dir = mkdtempSync(join(tmpdir(), "scout-config-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };

    it("reads a file", () => {
      expect(loadConfig(file("ok.json", JSON.stringify(minimal))).returnTo).toBe(minimal.returnTo);
    });

    it("names the file in every problem", () => {
      const path = file("bad.json", JSON.stringify({ ...minimal, extra: true }));
      expect(() => loadConfig(path)).toThrow(`${path}: unknown key "extra"`);
    });

    it("reports a missing file and bad JSON", () => {
      const missing = join(dir, "absent.json");
      expect(() => loadConfig(missing)).toThrow(`cannot read ${missing}: ENOENT`);
      const broken = file("broken.json", "{ returnTo: ");
      expect(() => loadConfig(broken)).toThrow(`${broken} is not valid JSON`);
    });
  });
});
