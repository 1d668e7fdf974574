import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatProbeKeyRing, type ProbeKey } from "../../../../core/wire/probe-key.ts";
import { ProbeKeyFileError } from "../../../../core/wire/probe-key-file.ts";
import { ProbeKeyFiles } from "../../../../local/adapters/probe-key-files.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";
import { ManualClock } from "../../../support/shell-runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-key-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const global: ProbeKey = { id: "g1", key: Buffer.alloc(32, 1) };
const own: ProbeKey = { id: "mx2-a", key: Buffer.alloc(32, 2) };

function keyFile(name: string, ring: readonly ProbeKey[] | string): string {
  const path = join(dir, name);
  // Replaced the way the key commands replace it: a new file moved into place.
  writeFileSync(`${path}.new`, typeof ring === "string" ? ring : formatProbeKeyRing(ring), { mode: 0o600 });
  renameSync(`${path}.new`, path);
  return path;
}

function config(globalFile: string, ownFile: string) {
  return {
    probeKeyFile: globalFile,
    targets: [
      { id: "mx1", probe: { to: "p@mx1.example.com" } },
      { id: "mx2", probe: { to: "p@mx2.example.com", keyFile: ownFile } },
      { id: "mx3" },
    ],
  } as never;
}

describe("ProbeKeyFiles (local mode's key rings)", () => {
  it("gives each probe target its own file's ring, the others the global ring", () => {
    const files = ProbeKeyFiles.open(
      config(keyFile("g.key", [global]), keyFile("own.key", [own])),
      new RecordingLogger(),
    );
    expect([...files.rings()]).toEqual([
      ["mx1", [global]],
      ["mx2", [own]],
    ]);
  });

  it("sees a rotation on the clock's next look, and keeps the last good ring while the file is broken", () => {
    const log = new RecordingLogger();
    const clock = new ManualClock(1_000_000);
    const path = keyFile("rotating.key", [global]);
    const files = ProbeKeyFiles.open(config(path, keyFile("own2.key", [own])), log, clock);
    const fresh: ProbeKey = { id: "g2", key: Buffer.alloc(32, 3) };
    keyFile("rotating.key", [fresh, global]);
    expect(files.rings().get("mx1")).toEqual([global]); // within the same second: not looked at yet
    clock.advance(1_000);
    expect(files.rings().get("mx1")).toEqual([fresh, global]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: "probe key file reloaded",
        fields: { keyFile: path, keys: "g2 g1" },
      }),
    );

    keyFile("rotating.key", "scout-key-v2:g3:half-pasted\n");
    clock.advance(1_000);
    expect(files.rings().get("mx1")).toEqual([fresh, global]);
    const warnings = log.entries.filter((entry) => entry.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.fields.error)).toContain("line 1: the probe key is not base64url");
    expect(JSON.stringify(log.entries)).not.toContain(fresh.key.toString("base64url"));
  });

  it("stops start-up on a missing or bad file, naming it", () => {
    const missing = join(dir, "absent.key");
    expect(() =>
      ProbeKeyFiles.open(config(keyFile("g3.key", [global]), missing), new RecordingLogger()),
    ).toThrow(ProbeKeyFileError);
    expect(() =>
      ProbeKeyFiles.open(
        config(keyFile("bad.key", "nonsense\n"), keyFile("own3.key", [own])),
        new RecordingLogger(),
      ),
    ).toThrow(/probe key file .*bad\.key: line 1/);
  });
});
