import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import { roundTripEventId } from "../../../../core/events/roundtrip-completed.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { formatProbeKeyRing, newProbeKey } from "../../../../core/wire/probe-key.ts";
import { LocalMonitor } from "../../../../local/serve/monitor.ts";
import { newWebhookSecret, WebhookReceiver } from "../../../support/webhook-receiver.ts";

/*
 * serve's results reach webhook consumers: a cycle's check results become check.completed
 * events, and a status change (after flap control) a status.changed, each signed per the
 * Standard Webhooks spec and POSTed through the outbox and the dispatcher.
 */
let dir: string;
let closedPort: number;
let receiver: WebhookReceiver;
const secret = newWebhookSecret();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-monitor-events-"));
  writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), {
    mode: 0o600,
  });
  writeFileSync(join(dir, "hook.secret"), `${secret}\n`, { mode: 0o600 });
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  closedPort = (holder.address() as AddressInfo).port;
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver.close();
});

const quiet: Logger = { info() {}, warn() {}, error() {} };

function bodies(type: string): Record<string, unknown>[] {
  return receiver.requests
    .map((request) => JSON.parse(request.body) as Record<string, unknown>)
    .filter((event) => event.type === type);
}

/** serve's config for these tests: webhooks to the receiver, no dashboard, these targets. */
function monitorConfig(dataDir: string, targets: readonly Record<string, unknown>[]) {
  return parseConfigText(
    JSON.stringify({
      dataDir: join(dir, dataDir),
      probeKeyFile: join(dir, "probe.key"),
      dashboard: { enabled: false },
      inbound: {
        domain: "scout-returns.example.com",
        returnAddress: "returns@scout-returns.example.com",
        listen: { port: 0 },
      },
      webhooks: {
        endpoints: [{ id: "sentinel", url: receiver.url, secretFile: join(dir, "hook.secret") }],
      },
      targets,
    }),
    "monitor-events-test",
  );
}

describe("LocalMonitor events", () => {
  it("delivers check.completed every cycle and status.changed once confirmAfter results agree", async () => {
    const config = monitorConfig("data", [
      {
        id: "mx1",
        customer: "acme",
        confirmAfter: 2,
        endpoints: [{ url: `smtp://127.0.0.1:${closedPort}` }],
      },
    ]);
    const monitor = await LocalMonitor.open(config, quiet);
    try {
      await monitor.start({ schedule: false });
      await monitor.runCycle();
      await receiver.until(() => bodies("check.completed").length >= 1, 30_000, "first check.completed");
      // One refused connection is not enough to page anyone.
      expect(bodies("status.changed")).toHaveLength(0);
      await monitor.runCycle();
      await receiver.until(
        () => receiver.ids().size >= 3,
        30_000,
        "two check.completed and one status.changed",
      );

      const completed = bodies("check.completed");
      expect(completed).toHaveLength(2);
      expect(completed[0]).toMatchObject({ customer: "acme", target: "mx1", version: 1 });
      expect(completed[0]?.data).toMatchObject({ status: "CRITICAL", reason: "refused" });
      const [changed] = bodies("status.changed");
      expect(changed?.data).toMatchObject({ to: "CRITICAL", from: "OK", reason: "refused" });

      const verifier = new Webhook(secret);
      for (const request of receiver.requests) {
        expect(() => verifier.verify(request.body, request.headers as Record<string, string>)).not.toThrow();
      }
    } finally {
      await monitor.stop();
    }
  });

  it("announces on start a round trip an earlier run stored but never queued, under its stable id", async () => {
    const config = monitorConfig("data-leftover", [{ id: "mx9", probe: { to: "scout@mx9.example.com" } }]);
    // The earlier run stored the probe's outcome, then died before queuing its event.
    const crashed = await LocalMonitor.open(config, quiet);
    const sentAtMs = Date.now() - 60_000;
    await crashed.store.recordSent({
      probeId: "p_leftover000000",
      targetId: "mx9",
      toAddress: "scout@mx9.example.com",
      messageId: "<p_leftover000000@scout-returns.example.com>",
      sentAtMs,
      deadlineMs: sentAtMs + 1_000,
    });
    const lost = await crashed.store.transition("p_leftover000000", ["sent"], "lost", {}, sentAtMs + 1_000);
    await crashed.stop();

    const monitor = await LocalMonitor.open(config, quiet);
    try {
      await monitor.start({ schedule: false });
      const announced = () => bodies("roundtrip.completed").filter((e) => e.target === "mx9");
      await receiver.until(() => announced().length >= 1, 30_000, "the leftover's roundtrip.completed");
      expect(announced()[0]).toMatchObject({
        id: roundTripEventId(lost as ProbeRecord),
        data: { probeId: "p_leftover000000", outcome: "lost" },
      });
      expect(await monitor.store.unannouncedOutcomes(10)).toEqual([]);
    } finally {
      await monitor.stop();
    }
  });
});
