import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readProbeKeyFile } from "../../../../core/wire/probe-key-file.ts";
import { keyCommand } from "../../../../local/cli/key-command.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function key(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await keyCommand(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {} });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const modeOf = (path: string) => lstatSync(path).mode & 0o777;

describe("email-scout key new", () => {
  it("writes a 0600 key, creating its folder 0700, and leaves no temporary file", async () => {
    const file = join(dir, "fresh", "probe.key");
    const result = await key("new", file);
    expect(result).toEqual({ code: 0, stdout: `wrote a new probe key to ${file} (mode 0600)`, stderr: "" });
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(join(dir, "fresh"))).toBe(0o700);
    expect(readProbeKeyFile(file)).toHaveLength(32);
    expect(readdirSync(join(dir, "fresh"))).toEqual(["probe.key"]);
  });

  it("keeps an existing file, a symlink or a dangling symlink without --force", async () => {
    const file = join(dir, "kept.key");
    writeFileSync(file, "old\n", { mode: 0o600 });
    const dangling = join(dir, "kept-dangling.key");
    symlinkSync(join(dir, "nowhere"), dangling);
    for (const path of [file, dangling]) {
      const result = await key("new", path);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `email-scout key: ${path} exists; keeping it (replace it with --force, then reinstall email_return everywhere)`,
      );
    }
    expect(readFileSync(file, "utf8")).toBe("old\n");
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
  });

  it("with --force turns an existing 0644 file into a new 0600 file and prints the real mode", async () => {
    const file = join(dir, "open.key");
    writeFileSync(file, "old\n");
    chmodSync(file, 0o644);
    const result = await key("new", file, "--force");
    expect(result.stdout).toBe(`wrote a new probe key to ${file} (mode 0600)`);
    expect(modeOf(file)).toBe(0o600);
  });

  it("with --force replaces a symlink itself, never its target", async () => {
    const target = join(dir, "target.txt");
    writeFileSync(target, "not a key\n");
    chmodSync(target, 0o644);
    const link = join(dir, "linked.key");
    symlinkSync(target, link);
    expect((await key("new", link, "--force")).code).toBe(0);
    expect(lstatSync(link).isFile()).toBe(true);
    expect(modeOf(link)).toBe(0o600);
    expect(readFileSync(target, "utf8")).toBe("not a key\n");
    expect(modeOf(target)).toBe(0o644);
  });

  it("with --force replaces a dangling symlink, without creating its target", async () => {
    const link = join(dir, "dangling.key");
    symlinkSync(join(dir, "missing-target"), link);
    const result = await key("new", link, "--force");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lstatSync(link).isFile()).toBe(true);
    expect(() => lstatSync(join(dir, "missing-target"))).toThrow();
  });

  it("refuses a directory, with or without --force", async () => {
    const folder = join(dir, "folder");
    mkdirSync(folder);
    for (const args of [
      ["new", folder],
      ["new", folder, "--force"],
    ]) {
      expect(await key(...args)).toEqual({
        code: 1,
        stdout: "",
        stderr: `email-scout key: ${folder} is a directory; name a file`,
      });
    }
  });
});
