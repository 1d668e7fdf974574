import { EventEmitter } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import type { CommandIo } from "../../../../local/cli/io.ts";
import { serveCommand } from "../../../../local/cli/serve-command.ts";
import { closeSession, type ServeSession } from "../../../../local/cli/serve-session.ts";
import { closedPort } from "../../../support/line-server.ts";

/*
 * serve under a service manager: SIGHUP reloads the configuration (an invalid one is refused
 * and the running one stays), SIGTERM stops it. Signals come from an emitter the test owns.
 */

function config(port: number, intervalSeconds: number | string): string {
  return [
    "dataDir: data",
    "probeKeyFile: probe.key",
    "schedule:",
    `  intervalSeconds: ${intervalSeconds}`,
    "inbound:",
    "  domain: scout-returns.example.com",
    "  returnAddress: returns@scout-returns.example.com",
    "  listen: { host: 127.0.0.1, port: 0 }",
    "dashboard: { host: 127.0.0.1, port: 0 }",
    "targets:",
    "  - id: mx1",
    `    endpoints: [{ url: "smtp://127.0.0.1:${port}" }]`,
    "",
  ].join("\n");
}

/** An io whose stderr lines can be awaited. */
function watchedIo(signals: EventEmitter) {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const io: CommandIo = {
    stdout: () => {},
    stderr: (text) => {
      lines.push(text);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(text)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(text);
        }
      }
    },
    env: {},
    signals,
  };
  const next = (pattern: RegExp) => new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  return { io, lines, next };
}

describe("serve and signals", () => {
  it("reloads on SIGHUP, refuses an invalid configuration and keeps running, and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scout-serve-signals-"));
    const configFile = join(dir, "scout.yaml");
    const port = await closedPort();
    writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
      mode: 0o600,
    });
    writeFileSync(configFile, config(port, 60));
    const signals = new EventEmitter();
    const { io, lines, next } = watchedIo(signals);

    const running = next(/email-scout serve running/);
    const served = serveCommand(["--config", configFile], io);
    expect(await running).toContain("intervalSeconds=60");

    writeFileSync(configFile, config(port, "-1"));
    const refused = next(/configuration reload refused/);
    signals.emit("SIGHUP");
    expect(await refused).toContain("schedule.intervalSeconds");

    writeFileSync(configFile, config(port, 30));
    const reloaded = next(/configuration reloaded/);
    signals.emit("SIGHUP");
    expect(await reloaded).toContain("intervalSeconds=30");

    signals.emit("SIGTERM");
    expect(await served).toBe(0);
    expect(lines.some((line) => /stopping .*signal=SIGTERM/.test(line))).toBe(true);
    // Every signal listener serve added is gone again.
    expect(signals.eventNames()).toEqual([]);
  });
});

describe("closeSession", () => {
  it("gives up waiting for a cycle that does not finish within the grace period", async () => {
    const stuck = {
      config: {},
      dashboard: undefined,
      // A cycle that never ends: stop() waits for it.
      monitor: { stop: () => new Promise<void>(() => {}) },
    } as unknown as ServeSession;
    expect(await closeSession(stuck, 200)).toBe(false);
  });

  it("reports a session that closed in time", async () => {
    let closed = false;
    const session = {
      config: {},
      dashboard: { close: async () => {} },
      monitor: {
        stop: async () => {
          closed = true;
        },
      },
    } as unknown as ServeSession;
    expect(await closeSession(session, 10_000)).toBe(true);
    expect(closed).toBe(true);
  });
});
