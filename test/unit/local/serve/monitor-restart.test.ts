import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import { formatProbeKeyRing, newProbeKey, parseProbeKeyRing } from "../../../../core/wire/probe-key.ts";
import { Spool } from "../../../../local/adapters/spool.ts";
import { consoleLogger } from "../../../../local/serve/console-logger.ts";
import { LocalMonitor, SPOOL_DIR } from "../../../../local/serve/monitor.ts";
import { emailReturnReply } from "../../../support/email-return-reply.ts";

/*
 * "Kill the monitor after the 250 and before processing, restart, and the result is still
 * recorded": the listener's part (spooled durably before 250, survives SIGKILL) is proven in
 * inbound-listener.test.ts; this proves the monitor's part: a return left in the spool by a
 * run that died is processed when the next run starts.
 */
const captured: Buffer[] = [];
let relay: SMTPServer;
let relayPort: number;
let dir: string;

beforeAll(async () => {
  relay = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        captured.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  relayPort = (relay.server.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), "scout-restart-"));
  writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
    mode: 0o600,
  });
});
afterAll(async () => {
  await new Promise<void>((resolve) => relay.close(() => resolve()));
});

function config() {
  return parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: join(dir, "probe.key"),
      inbound: {
        domain: "scout-returns.example.com",
        returnAddress: "returns@scout-returns.example.com",
        listen: { port: 0 },
      },
      outbound: { relay: { host: "127.0.0.1", port: relayPort, tls: "none" } },
      targets: [{ id: "mx1", probe: { to: "probe@mx1.example.com" } }],
    }),
    "restart-test",
  );
}

describe("LocalMonitor restart", () => {
  it("processes a return that was spooled (250 given) but never processed before the monitor died", async () => {
    const log = consoleLogger(() => {});
    const first = await LocalMonitor.open(config(), log);
    await first.start({ schedule: false });
    await first.runCycle();
    const [probe] = await first.store.recent("mx1", 0, 1);
    expect(probe?.state).toBe("sent");
    await first.stop();
    expect(captured).toHaveLength(1);

    // What the listener does before it answers 250; then the process "dies".
    const [key] = parseProbeKeyRing(readFileSync(join(dir, "probe.key"), "utf8"));
    const spool = await Spool.open(join(dir, "data", SPOOL_DIR));
    await spool.write(
      emailReturnReply(captured[0] as Buffer, {
        key,
        returnTo: "returns@scout-returns.example.com",
        nowMs: Date.now(),
        uniqueId: "restart-test",
      }),
      {
        envelope: { from: "probe@mx1.example.com", to: ["returns@scout-returns.example.com"] },
        receivedAtMs: Date.now(),
      },
    );
    expect(await spool.pending()).toHaveLength(1);

    const second = await LocalMonitor.open(config(), log);
    await second.start({ schedule: false });
    const recorded = await second.store.get(probe?.probeId as string);
    expect(recorded?.state).toBe("returned");
    expect(recorded?.rttMs).toBeGreaterThanOrEqual(0);
    expect(await spool.pending()).toHaveLength(0);
    await second.stop();
  });
});
