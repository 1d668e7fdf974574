/*
 * The monitor's own overhead on a real round trip: probes sent one at a time through the demo
 * host's Postfix to a mailbox whose ~/.forward pipes into the built email_return, the return
 * relayed by Postfix to the monitor's listener on 127.0.0.1:2526, correlated into SQLite.
 * probe-slow's pipe sleeps 2 s first, so its RTT minus 2,000 ms is everything but the sleep;
 * probe (no sleep) shows the bare loop for comparison.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../../core/config/parse-config.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { installReturn } from "../../local/return-install/return-install.ts";
import { lookupUser } from "../../local/return-install/system-user.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { demoHost } from "../../test/support/demo-host.ts";
import { percentile } from "../stats.ts";

const INBOUND = "scout-test.test";
const RETURN_TO = `returns@${INBOUND}`;
export const SLEEP_MS = 2_000;

export interface LoopResult {
  readonly user: string;
  readonly probes: number;
  readonly returned: number;
  /** RTT minus the pipe's sleep (0 for probe). */
  readonly overheadMs: number[];
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Send -> email_return started (Postfix in, local delivery, the pipe, Node start-up), sleep removed: p50 / p95. */
  readonly outboundMs: readonly [number, number];
  /** email_return started -> spooled at the monitor (sendmail, Postfix out, the relay to the listener): p50 / p95. */
  readonly returnMs: readonly [number, number];
}

function forwardOf(user: string): string {
  return join(lookupUser(user).home, ".forward");
}

export async function benchThroughPostfix(script: string, runs = 20): Promise<LoopResult[]> {
  const demo = demoHost();
  const dir = mkdtempSync(join(tmpdir(), "scout-bench-rt-"));
  const users = ["probe-slow", "probe"] as const;
  const saved = new Map<string, string>();
  for (const user of users) {
    const file = forwardOf(user);
    saved.set(user, existsSync(file) ? readFileSync(file, "utf8") : "");
  }
  const lines: string[] = [];
  try {
    const keyFile = join(dir, "probe.key");
    writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
    for (const user of users) {
      installReturn({ user, returnTo: RETURN_TO, keyFile, script, nodePath: process.execPath });
    }
    // As round-trip.test.ts does: probe-slow's pipe sleeps 2 s before email_return runs.
    const slow = readFileSync(forwardOf("probe-slow"), "utf8").replace(
      '"|',
      `"|/bin/sleep ${SLEEP_MS / 1000} && `,
    );
    writeFileSync(forwardOf("probe-slow"), slow);

    const results: LoopResult[] = [];
    for (const user of users) {
      const config = parseConfigText(
        JSON.stringify({
          dataDir: join(dir, `data-${user}`),
          probeKeyFile: keyFile,
          inbound: { domain: INBOUND, returnAddress: RETURN_TO, listen: { host: "127.0.0.1", port: 2526 } },
          outbound: {
            from: `monitor@${INBOUND}`,
            relay: { host: demo.host, port: 25, tls: "require-starttls", caFile: demo.caFile },
          },
          roundTrip: { deadlineSeconds: 25, warningSeconds: 10, criticalSeconds: 20 },
          targets: [{ id: user, probe: { to: `${user}@scout.test` } }],
        }),
        "bench-round-trip",
      );
      const monitor = await LocalMonitor.open(
        config,
        consoleLogger((line) => lines.push(line)),
      );
      try {
        await monitor.start({ schedule: false });
        for (let run = 0; run < runs; run++) {
          await monitor.runCycle();
          await monitor.waitForOpenProbes();
        }
        const probes = await monitor.store.recent(user, 0, runs + 10);
        const sleep = user === "probe-slow" ? SLEEP_MS : 0;
        const returned = probes.filter((p) => p.state === "returned" && p.rttMs !== undefined);
        const overheadMs = returned.map((p) => (p.rttMs as number) - sleep);
        // email_return stamps the probe's arrival (same machine, same clock): it splits the loop in two legs.
        const stamped = returned.filter((p) => p.remoteArrivedAtMs !== undefined);
        const outbound = stamped.map((p) => (p.remoteArrivedAtMs as number) - p.sentAtMs - sleep);
        const back = stamped.map((p) => (p.returnedAtMs as number) - (p.remoteArrivedAtMs as number));
        const p50p95 = (values: number[]) =>
          [percentile(values, 50) ?? Number.NaN, percentile(values, 95) ?? Number.NaN] as const;
        results.push({
          user,
          probes: probes.length,
          returned: overheadMs.length,
          overheadMs,
          p50Ms: percentile(overheadMs, 50) ?? Number.NaN,
          p95Ms: percentile(overheadMs, 95) ?? Number.NaN,
          maxMs: Math.max(...overheadMs),
          outboundMs: p50p95(outbound),
          returnMs: p50p95(back),
        });
      } finally {
        await monitor.stop();
      }
    }
    return results;
  } catch (error) {
    process.stderr.write(`${lines.slice(-30).join("\n")}\n`);
    throw error;
  } finally {
    for (const user of users) writeFileSync(forwardOf(user), saved.get(user) ?? "");
    rmSync(dir, { recursive: true, force: true });
  }
}
