import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../core/config/parse-config.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { keyCommand } from "../../local/cli/key-command.ts";
import { readPasswordFile } from "../../local/cli/read-password.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { readPrivateFile } from "../../local/serve/private-file.ts";
import { readWebhookSecretFile } from "../../local/serve/webhook-endpoints.ts";
import { memoryLogger } from "../support/dashboard-server.ts";

// Issue 15, item 4: key new --force left a 0644 file while printing "(mode 0600)" and followed
// symlinks; a dangling symlink gave a stack trace; password files readable by others were
// accepted; scout.db was created 0644.
const dir = mkdtempSync(join(tmpdir(), "scout-secret-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => lstatSync(path).mode & 0o777;

async function keyNew(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await keyCommand(["new", "--id", "k1", ...args], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("key new --force", () => {
  it("over a 0644 file leaves a 0600 file and prints the mode it has", async () => {
    const file = join(dir, "open.key");
    writeFileSync(file, "old");
    chmodSync(file, 0o644);
    expect((await keyNew(file, "--force")).stdout).toBe(`wrote a new probe key k1 to ${file} (mode 0600)`);
    expect(modeOf(file)).toBe(0o600);
    expect(readProbeKeyFile(file)).toEqual([{ id: "k1", key: expect.any(Buffer) }]);
  });

  it("over a symlink to a file replaces the link and leaves the target alone", async () => {
    const target = join(dir, "victim");
    writeFileSync(target, "precious\n");
    chmodSync(target, 0o644);
    const link = join(dir, "link.key");
    symlinkSync(target, link);
    expect((await keyNew(link, "--force")).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(modeOf(link)).toBe(0o600);
    expect(readFileSync(target, "utf8")).toBe("precious\n");
  });

  it("over a dangling symlink replaces it, with no stack trace and no file at the link's target", async () => {
    const link = join(dir, "dangling.key");
    symlinkSync(join(dir, "elsewhere"), link);
    const result = await keyNew(link, "--force");
    expect(result).toEqual({
      code: 0,
      stdout: `wrote a new probe key k1 to ${link} (mode 0600)`,
      stderr: "",
    });
    expect(() => lstatSync(join(dir, "elsewhere"))).toThrow();
  });

  it("refuses a directory", async () => {
    const folder = join(dir, "keys");
    mkdirSync(folder);
    expect(await keyNew(folder, "--force")).toMatchObject({
      code: 1,
      stderr: `email-scout key: ${folder} is a directory; name a file`,
    });
  });
});

describe("every secret file reader", () => {
  const readers: [string, (path: string) => unknown, string][] = [
    ["probe key", readProbeKeyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }])],
    ["dashboard token", (path) => readPrivateFile(path, "dashboard.tokenFile"), "token-0123456789abcdef\n"],
    [
      "webhook secret",
      (path) => readWebhookSecretFile(path, "webhooks.endpoints[0].secretFile"),
      "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==",
    ],
    ["password file", readPasswordFile, "hunter2\n"],
  ];

  it.each(readers)(
    "%s: refuses 0644 with the one message shape; a symlink to a 0600 file reads",
    (name, read, text) => {
      const file = join(dir, `${name.replace(" ", "-")}.secret`);
      writeFileSync(file, text);
      chmodSync(file, 0o644);
      expect(() => read(file)).toThrow(
        new RegExp(`${file} has mode 0644: group or others may read it; run: chmod 600 ${file}$`),
      );
      chmodSync(file, 0o600);
      const link = `${file}.link`;
      symlinkSync(file, link);
      expect(() => read(link)).not.toThrow();
    },
  );

  it.each(readers)("%s: names a dangling symlink and a directory, without reading them", (_name, read) => {
    const dangling = join(dir, `dangling-${_name.replace(" ", "-")}`);
    symlinkSync(join(dir, "no-such-secret"), dangling);
    expect(() => read(dangling)).toThrow(`${dangling} does not exist`);
    const folder = join(dir, `folder-${_name.replace(" ", "-")}`);
    mkdirSync(folder, { mode: 0o700 });
    expect(() => read(folder)).toThrow(`${folder} is not a regular file`);
  });

  it("serve refuses login and relay password files that others may read", async () => {
    const keyFile = join(dir, "serve.key");
    writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
    const password = join(dir, "login.pw");
    writeFileSync(password, "hunter2\n");
    chmodSync(password, 0o644);
    const config = (extra: object) =>
      parseConfigText(
        JSON.stringify({
          dataDir: join(dir, "data"),
          probeKeyFile: keyFile,
          inbound: { domain: "r.example.com", returnAddress: "returns@r.example.com", listen: { port: 0 } },
          targets: [{ id: "mx1", probe: { to: "probe@mx1.example.com" } }],
          ...extra,
        }),
        "scout.yaml",
      );
    const refusal = `password file ${password} has mode 0644: group or others may read it; run: chmod 600 ${password}`;
    const login = config({
      targets: [
        {
          id: "mx1",
          probe: { to: "probe@mx1.example.com" },
          endpoints: [{ url: "imaps://mx1.example.com", login: { user: "u", passwordFile: password } }],
        },
      ],
    });
    await expect(LocalMonitor.open(login, memoryLogger())).rejects.toThrow(refusal);
    const relay = config({ outbound: { relay: { host: "127.0.0.1", user: "u", passwordFile: password } } });
    await expect(LocalMonitor.open(relay, memoryLogger())).rejects.toThrow(refusal);
  });
});

describe("the store", () => {
  it("creates scout.db, -wal and -shm 0600 in a 0700 folder", async () => {
    const path = join(dir, "state", "scout.db");
    const store = await SqliteStore.open(path);
    try {
      store.db.exec("CREATE TABLE IF NOT EXISTS touch (x); INSERT INTO touch VALUES (1)");
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(modeOf(file), file).toBe(0o600);
      expect(statSync(join(dir, "state")).mode & 0o777).toBe(0o700);
    } finally {
      store.close();
    }
  });
});
