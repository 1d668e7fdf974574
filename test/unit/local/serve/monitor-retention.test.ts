import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { Clock } from "../../../../core/ports/clock.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { Spool } from "../../../../local/adapters/spool.ts";
import { LocalMonitor, SPOOL_DIR } from "../../../../local/serve/monitor.ts";

/* serve must not grow its database without bound: a cycle prunes what is past retentionDays. */
const DAY = 86_400_000;
let dir: string;
let closedPort: number;
let holder: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-retention-"));
  writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
    mode: 0o600,
  });
  // A port that refuses: bind, note it, close. The check then ends "refused" at once.
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  closedPort = (holder.address() as AddressInfo).port;
  await new Promise<void>((resolve) => holder.close(() => resolve()));
});

const quiet: Logger = { info() {}, warn() {}, error() {} };

describe("LocalMonitor retention", () => {
  it("prunes probes older than retentionDays in a cycle, and keeps recent ones", async () => {
    let now = Date.UTC(2026, 10, 29, 12);
    const clock: Clock = { now: () => now };
    const config = parseConfigText(
      JSON.stringify({
        dataDir: join(dir, "data"),
        probeKeyFile: join(dir, "probe.key"),
        retentionDays: 7,
        dashboard: { enabled: false },
        inbound: {
          domain: "scout-returns.example.com",
          returnAddress: "returns@scout-returns.example.com",
          listen: { port: 0 },
        },
        targets: [{ id: "mx1", endpoints: [{ url: `smtp://127.0.0.1:${closedPort}` }] }],
      }),
      "retention-test",
    );
    const monitor = await LocalMonitor.open(config, quiet, clock);
    try {
      const old = { targetId: "mx1", toAddress: "p@mx1.example.com", messageId: "<a@x>" };
      await monitor.store.recordSent({
        ...old,
        probeId: "old",
        sentAtMs: now - 8 * DAY,
        deadlineMs: now - 8 * DAY + 1,
      });
      await monitor.store.recordSent({
        ...old,
        probeId: "new",
        sentAtMs: now - 7 * DAY + 600_000,
        deadlineMs: now,
      });
      await monitor.runCycle();
      expect(await monitor.store.get("old")).toBeUndefined();
      expect(await monitor.store.get("new")).toBeDefined();
      // Within the hour nothing is pruned again, even when more has aged past retention.
      now += 1_800_000;
      await monitor.runCycle();
      expect(await monitor.store.get("new")).toBeDefined();
      // An hour after the first prune, it goes.
      now += 1_800_000;
      await monitor.runCycle();
      expect(await monitor.store.get("new")).toBeUndefined();
    } finally {
      await monitor.stop();
    }
  });

  it("prunes spool/rejected/ past inbound.rejectedRetentionDays and over inbound.rejectedMaxBytes", async () => {
    const now = Date.UTC(2026, 10, 29, 12);
    const clock: Clock = { now: () => now };
    const dataDir = join(dir, "data-rejected");
    const config = parseConfigText(
      JSON.stringify({
        dataDir,
        probeKeyFile: join(dir, "probe.key"),
        dashboard: { enabled: false },
        inbound: {
          domain: "scout-returns.example.com",
          returnAddress: "returns@scout-returns.example.com",
          listen: { port: 0 },
          rejectedRetentionDays: 7,
          rejectedMaxBytes: 3 * 1024 * 1024,
        },
        targets: [{ id: "mx1", endpoints: [{ url: `smtp://127.0.0.1:${closedPort}` }] }],
      }),
      "retention-test",
    );
    const monitor = await LocalMonitor.open(config, quiet, clock);
    try {
      const spool = await Spool.open(join(dataDir, SPOOL_DIR));
      const rejectedAt = async (atMs: number) => {
        const meta = {
          envelope: { from: "", to: ["returns@scout-returns.example.com"] },
          receivedAtMs: atMs,
        };
        const id = await spool.write(Buffer.alloc(1024 * 1024, "x"), meta);
        await spool.reject(id, "no-token");
        return id;
      };
      await rejectedAt(now - 8 * DAY);
      // Four young ones, each a little over 1 MiB with its meta: over the 3 MiB cap, the two oldest go.
      const young = [];
      for (const hoursAgo of [4, 3, 2, 1]) young.push(await rejectedAt(now - hoursAgo * 3_600_000));
      await monitor.runCycle();
      expect(await spool.rejected()).toEqual(young.slice(2));
    } finally {
      await monitor.stop();
    }
  });
});
