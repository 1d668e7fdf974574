import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { preflightListeners } from "../../../../local/cli/listen-preflight.ts";
import { probeCommand } from "../../../../local/cli/probe-command.ts";
import { serveCommand } from "../../../../local/cli/serve-command.ts";
import { capturedIo } from "../../../support/captured-io.ts";

/*
 * A port another process holds stops serve (exit 2) and probe (UNKNOWN) before anything is
 * created or sent, with the port, the config key or option, and how to find the holder.
 */

let holder: Server;
let busyPort: number;
let dir: string;

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  busyPort = (holder.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), "scout-preflight-"));
});
afterAll(async () => {
  await new Promise((resolve) => holder.close(resolve));
});

function io() {
  const { out, io: commandIo } = capturedIo();
  return { out, commandIo };
}

describe("preflightListeners", () => {
  it("names the key, the address and the way to find the holder of a busy port", async () => {
    const problem = await preflightListeners([
      { key: "dashboard.port", host: "127.0.0.1", port: 0 },
      { key: "inbound.listen.port", host: "127.0.0.1", port: busyPort },
    ]);
    expect(problem).toContain(`inbound.listen.port 127.0.0.1:${busyPort} is in use by another process`);
    expect(problem).toContain(`ss -ltnp 'sport = :${busyPort}'`);
  });

  it("passes free ports", async () => {
    expect(await preflightListeners([{ key: "inbound.listen.port", host: "127.0.0.1", port: 0 }])).toBe(
      undefined,
    );
  });

  it("says when the host is not an address of this machine", async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here; nothing is sent to it.
    const problem = await preflightListeners([{ key: "inbound.listen.host", host: "192.0.2.1", port: 0 }]);
    expect(problem).toContain("192.0.2.1 is not an address of this machine");
  });
});

describe("a busy listener port", () => {
  it("stops serve with exit 2 before the database or spool is created", async () => {
    const configFile = join(dir, "scout.yaml");
    writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
      mode: 0o600,
    });
    writeFileSync(
      configFile,
      [
        "dataDir: data",
        "probeKeyFile: probe.key",
        "inbound:",
        "  domain: scout-returns.example.com",
        "  returnAddress: returns@scout-returns.example.com",
        `  listen: { host: 127.0.0.1, port: ${busyPort} }`,
        "dashboard: { enabled: false }",
        "targets:",
        "  - id: mx1",
        '    endpoints: [{ url: "smtp://127.0.0.1:1" }]',
        "",
      ].join("\n"),
    );
    const { out, commandIo } = io();
    expect(await serveCommand(["--config", configFile, "--once"], commandIo)).toBe(2);
    expect(out.stderr).toContain(`inbound.listen.port 127.0.0.1:${busyPort} is in use by another process`);
    expect(out.stderr).not.toContain("    at ");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("stops probe with UNKNOWN before the probe is sent, and says how to run beside serve", async () => {
    const { out, commandIo } = io();
    const code = await probeCommand(
      [
        "--to",
        "probe@mx1.example.com",
        "--return-address",
        "returns@scout-returns.example.com",
        "--key-file",
        join(dir, "probe.key"),
        // Nothing listens on port 1: a send attempt would fail and show up as send-failed.
        "--relay",
        "127.0.0.1:1",
        "--listen",
        `127.0.0.1:${busyPort}`,
      ],
      commandIo,
    );
    expect(code).toBe(3);
    expect(out.stdout).toContain(`ROUNDTRIP UNKNOWN - --listen 127.0.0.1:${busyPort} is in use`);
    expect(out.stdout).toContain(
      "give this probe a --return-address whose domain routes to another --listen port",
    );
    expect(out.stdout).not.toContain("send-failed");
  });
});
