import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { installReturn, uninstallReturn } from "../../../../local/return-install/return-install.ts";
import type { SystemUser } from "../../../../local/return-install/system-user.ts";

/*
 * return install runs as root in a home the mailbox user controls: a symbolic link the user
 * left at any name it writes must not make root write, chown or read through it.
 */

const ROOT = resolve(import.meta.dirname, "../../../..");
let keyFile: string;

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT });
  const dir = mkdtempSync(join(tmpdir(), "scout-install-key-"));
  keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
});

/** A home of its own for the process's user: the installer treats it as the mailbox user's. */
function mailboxUser(): { user: SystemUser; victim: string } {
  const home = mkdtempSync(join(tmpdir(), "scout-install-home-"));
  const victimDir = mkdtempSync(join(tmpdir(), "scout-install-victim-"));
  const victim = join(victimDir, "precious");
  writeFileSync(victim, "root's data\n", { mode: 0o600 });
  return {
    user: { name: "mailbox", uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, home },
    victim,
  };
}

function install(user: SystemUser) {
  return installReturn(
    {
      user: user.name,
      returnTo: "returns@scout-returns.example.com",
      keyFile,
      runtime: "node",
      script: join(ROOT, "dist/email_return.cjs"),
      nodePath: process.execPath,
    },
    () => user,
  );
}

describe("return install and symbolic links in the mailbox user's home", () => {
  it("refuses a ~/.forward that links elsewhere, and leaves the link's target as it was", () => {
    const { user, victim } = mailboxUser();
    symlinkSync(victim, join(user.home, ".forward"));
    expect(() => install(user)).toThrow(/\.forward is a symbolic link: return install runs as root/);
    expect(readFileSync(victim, "utf8")).toBe("root's data\n");
  });

  it("refuses a ~/.email-scout that links to another directory, writing nothing there", () => {
    const { user, victim } = mailboxUser();
    const elsewhere = join(victim, "..");
    symlinkSync(elsewhere, join(user.home, ".email-scout"));
    expect(() => install(user)).toThrow(/\.email-scout is a symbolic link or not a directory/);
    expect(() => lstatSync(join(elsewhere, "probe.key"))).toThrow();
    expect(lstatSync(elsewhere).mode & 0o777).toBe(0o700);
    // Uninstall leaves it alone too, rather than deleting our file names wherever it points.
    writeFileSync(join(elsewhere, "return.json"), "theirs\n");
    expect(uninstallReturn(user.name, () => user).join("\n")).toContain("it is a symbolic link");
    expect(readFileSync(join(elsewhere, "return.json"), "utf8")).toBe("theirs\n");
  });

  it("replaces a link at a file name it writes with a regular file, leaving the target untouched", () => {
    const { user, victim } = mailboxUser();
    mkdirSync(join(user.home, ".email-scout"), { mode: 0o700 });
    symlinkSync(victim, join(user.home, ".email-scout", "probe.key"));
    install(user);
    const key = join(user.home, ".email-scout", "probe.key");
    expect(lstatSync(key).isFile()).toBe(true);
    expect(lstatSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(victim, "utf8")).toBe("root's data\n");
    expect(readFileSync(join(user.home, ".forward"), "utf8")).toContain("email_return.cjs");
  });
});
