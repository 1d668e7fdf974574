import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { SqliteStatusStore } from "../../../../local/adapters/sqlite-status-store.ts";
import { renderMetrics } from "../../../../local/dashboard/metrics.ts";
import { LocalMonitor } from "../../../../local/serve/monitor.ts";
import { RawClient } from "../../../support/raw-smtp-client.ts";

/* The listener's refusals reach the rejection counts and /metrics; rejected mail limits a client. */
const RETURNS = "returns@scout-returns.example.com";
const quiet: Logger = { info() {}, warn() {}, error() {} };

let dir: string;
let monitor: LocalMonitor;
let port: number;
const clients: RawClient[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-monitor-listener-"));
  writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
    mode: 0o600,
  });
  const config = parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: join(dir, "probe.key"),
      dashboard: { enabled: false },
      inbound: {
        domain: "scout-returns.example.com",
        returnAddress: RETURNS,
        listen: { port: 0 },
        maxRejectedPerMinute: 2,
      },
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://127.0.0.1:1" }] }],
    }),
    "monitor-listener-test",
  );
  monitor = await LocalMonitor.open(config, quiet);
  ({ listenPort: port } = await monitor.start({ schedule: false }));
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await monitor.stop();
  await rm(dir, { recursive: true, force: true });
});

async function greeted(): Promise<{ client: RawClient; greeting: string }> {
  const opened = await RawClient.open(port);
  clients.push(opened.client);
  return opened;
}

describe("LocalMonitor's listener", () => {
  it("counts a refusal by reason in the store and on /metrics", async () => {
    const { client } = await greeted();
    await client.command("EHLO client.test");
    await client.command("MAIL FROM:<x@example.org>");
    expect(await client.command("RCPT TO:<postmaster@scout-returns.example.com>")).toMatch(/^550/);
    await expect.poll(() => monitor.store.rejectionCounts(0)).toEqual({ "listener-wrong-recipient": 1 });
    const sources = {
      config: monitor.config,
      store: monitor.store,
      statuses: new SqliteStatusStore(monitor.store.db),
    };
    const { body } = await renderMetrics(sources, Date.now());
    expect(body).toContain('email_scout_returns_rejected_total{reason="listener-wrong-recipient"} 1');
  });

  it("refuses a client whose spooled mail the intake rejected, once over maxRejectedPerMinute", async () => {
    const { client } = await greeted();
    await client.command("EHLO client.test");
    for (const n of [1, 2]) {
      const rejected = monitor.waitForOutcome((outcome) => outcome.kind === "rejected", 10_000);
      await client.command("MAIL FROM:<x@example.org>");
      await client.command(`RCPT TO:<${RETURNS}>`);
      await client.command("DATA");
      expect(await client.command(`Subject: no token ${n}\r\n\r\njunk\r\n.`)).toMatch(/^250/);
      await rejected;
    }
    expect(await client.command("MAIL FROM:<x@example.org>")).toMatch(/^421 .*too much rejected mail/);
    expect((await greeted()).greeting).toMatch(/^421 too much rejected mail/);
    await expect.poll(async () => (await monitor.store.rejectionCounts(0))["listener-rate-limited"]).toBe(2);
  });
});
