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
    const [signing, ...others] = readProbeKeyFile(file);
    expect(result).toEqual({
      code: 0,
      stdout: `wrote a new probe key ${signing.id} to ${file} (mode 0600)`,
      stderr: "",
    });
    expect(signing.id).toMatch(/^\d{8}-[A-Za-z0-9_-]{4}$/);
    expect(signing.key).toHaveLength(32);
    expect(others).toEqual([]);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(join(dir, "fresh"))).toBe(0o700);
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
        `email-scout key: ${path} exists; keeping it (rotate with key add, or replace it with --force, then reinstall email_return everywhere)`,
      );
    }
    expect(readFileSync(file, "utf8")).toBe("old\n");
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
  });

  it("with --force turns an existing 0644 file into a new 0600 file and prints the real mode", async () => {
    const file = join(dir, "open.key");
    writeFileSync(file, "old\n");
    chmodSync(file, 0o644);
    const result = await key("new", file, "--force", "--id", "first");
    expect(result.stdout).toBe(`wrote a new probe key first to ${file} (mode 0600)`);
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

describe("email-scout key add, retire, list: rotation", () => {
  const ids = (file: string) => readProbeKeyFile(file).map((entry) => entry.id);

  it("add puts a fresh key first and keeps the others, byte for byte, in a 0600 file", async () => {
    const file = join(dir, "rotate.key");
    await key("new", file, "--id", "old");
    const [old] = readProbeKeyFile(file);
    chmodSync(file, 0o600);
    const result = await key("add", file, "--id", "new");
    expect(result).toEqual({
      code: 0,
      stdout: `added probe key new to ${file} (mode 0600); it signs new probes, old still accepted`,
      stderr: "",
    });
    expect(ids(file)).toEqual(["new", "old"]);
    expect(readProbeKeyFile(file)[1]).toEqual(old);
    expect(modeOf(file)).toBe(0o600);
    expect(readdirSync(dir).filter((name) => name.includes("rotate.key"))).toEqual(["rotate.key"]);
  });

  it("add refuses an id the ring holds, and a bad id, and changes nothing", async () => {
    const file = join(dir, "dup.key");
    await key("new", file, "--id", "k1");
    const before = readFileSync(file, "utf8");
    expect(await key("add", file, "--id", "k1")).toEqual({
      code: 1,
      stdout: "",
      stderr: "email-scout key: the ring already holds key k1; choose another --id",
    });
    expect(await key("add", file, "--id", "a.b")).toMatchObject({
      code: 1,
      stderr: 'email-scout key: key id "a.b" must be 1-32 characters of A-Z a-z 0-9 - _',
    });
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("add turns a version 1 file into a ring that keeps the old key as v1", async () => {
    const file = join(dir, "legacy.key");
    const legacy = Buffer.alloc(32, 5);
    writeFileSync(file, `scout-key-v1:${legacy.toString("base64url")}\n`, { mode: 0o600 });
    expect((await key("add", file, "--id", "k2")).code).toBe(0);
    expect(readProbeKeyFile(file)).toEqual([
      { id: "k2", key: expect.any(Buffer) },
      { id: "v1", key: legacy },
    ]);
    expect(readFileSync(file, "utf8")).toContain(`scout-key-v2:v1:${legacy.toString("base64url")}`);
  });

  it("retire removes a key, warns when it was the signing key, and refuses the last one", async () => {
    const file = join(dir, "retire.key");
    await key("new", file, "--id", "a");
    await key("add", file, "--id", "b");
    await key("add", file, "--id", "c");
    expect(await key("retire", file, "--id", "a")).toEqual({
      code: 0,
      stdout: `retired probe key a from ${file} (mode 0600)`,
      stderr: "",
    });
    expect(ids(file)).toEqual(["c", "b"]);
    expect(await key("retire", file, "--id", "c")).toEqual({
      code: 0,
      stdout: `retired probe key c from ${file} (mode 0600)`,
      stderr: "email-scout key: warning: c was the signing key; b signs new probes now",
    });
    expect(await key("retire", file, "--id", "b")).toEqual({
      code: 1,
      stdout: "",
      stderr: "email-scout key: key b is the ring's only key; add its successor first (email-scout key add)",
    });
    expect(await key("retire", file, "--id", "zz")).toEqual({
      code: 1,
      stdout: "",
      stderr: "email-scout key: the ring holds no key zz (it holds b)",
    });
    expect(await key("retire", file)).toMatchObject({ code: 2 });
    expect(ids(file)).toEqual(["b"]);
  });

  it("list prints the ids, signing key first, and never key material", async () => {
    const file = join(dir, "list.key");
    await key("new", file, "--id", "old");
    await key("add", file, "--id", "new");
    const result = await key("list", file);
    expect(result).toEqual({ code: 0, stdout: "new\tsigns\nold\taccepted", stderr: "" });
    for (const entry of readProbeKeyFile(file)) {
      expect(result.stdout).not.toContain(entry.key.toString("base64url"));
    }
  });

  it("refuses to rotate a file that others may read, or that is not a key file", async () => {
    const open = join(dir, "open-rotate.key");
    await key("new", open, "--id", "k1");
    chmodSync(open, 0o644);
    const result = await key("add", open);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`chmod 600 ${open}`);
    const junk = join(dir, "junk.key");
    writeFileSync(junk, "hello\n", { mode: 0o600 });
    expect((await key("list", junk)).stderr).toBe(
      `email-scout key: probe key file ${junk}: line 1: a probe key line must start with scout-key-v2: (or scout-key-v1:)`,
    );
  });

  it("add over a symlink replaces the link with a 0600 file and leaves its target alone", async () => {
    const target = join(dir, "ring-target.key");
    await key("new", target, "--id", "k1");
    const before = readFileSync(target, "utf8");
    const link = join(dir, "ring-link.key");
    symlinkSync(target, link);
    expect((await key("add", link, "--id", "k2")).code).toBe(0);
    expect(lstatSync(link).isFile()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(before);
    expect(readProbeKeyFile(link).map((entry) => entry.id)).toEqual(["k2", "k1"]);
  });
});
