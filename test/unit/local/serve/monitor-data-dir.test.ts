import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { LocalMonitor, SPOOL_DIR } from "../../../../local/serve/monitor.ts";
import { memoryLogger } from "../../../support/dashboard-server.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-data-dir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
  mode: 0o600,
});

async function openWith(dataDir: string) {
  const log = memoryLogger();
  const config = parseConfigText(
    JSON.stringify({
      dataDir,
      probeKeyFile: join(dir, "probe.key"),
      inbound: { domain: "r.example.com", returnAddress: "returns@r.example.com", listen: { port: 0 } },
      targets: [{ id: "mx1", probe: { to: "probe@mx1.example.com" } }],
    }),
    "scout.yaml",
  );
  const monitor = await LocalMonitor.open(config, log);
  await monitor.stop();
  return log.lines.join("\n");
}

describe("the data directory", () => {
  it("is created 0700, without a warning", async () => {
    const dataDir = join(dir, "fresh");
    expect(await openWith(dataDir)).not.toContain("data directory");
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it("is left as it is but warned about when others may enter it; its spool is tightened", async () => {
    const dataDir = join(dir, "shared");
    mkdirSync(join(dataDir, SPOOL_DIR), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, SPOOL_DIR), 0o755);
    const logged = await openWith(dataDir);
    expect(logged).toContain("warn data directory is open to group or others");
    expect(logged).toContain(`"fix":"chmod 700 ${dataDir}"`);
    expect(statSync(dataDir).mode & 0o777).toBe(0o755);
    expect(statSync(join(dataDir, SPOOL_DIR)).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "scout.db")).mode & 0o777).toBe(0o600);
  });
});
