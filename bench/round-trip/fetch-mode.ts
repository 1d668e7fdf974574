/*
 * Fetch mode's own latency on real round trips: probes sent one at a time through the demo
 * host's Postfix to the probe-fetch mailbox (no ~/.forward), found by serve's cycle in Dovecot
 * over IMAP with IDLE. The poll is set far apart, so only IDLE can find a probe in time.
 *
 * Two measures per probe, both on this machine's one clock:
 * - arrival -> known: from the moment the probe's file appears in the mailbox's Maildir/new
 *   (an inotify watch in this process sees the delivery's rename) to the moment the monitor
 *   recorded it (returnedAtMs): Dovecot's IDLE notice, the header fetch, the token check.
 * - RTT minus the delivery time Postfix logs (`delay=` of the `status=sent` line): everything the
 *   monitor adds around Postfix's own work (submission before, IDLE and fetch after).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupUser } from "../../local/return-install/system-user.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { demoFetch, demoFetchConfig, FETCH_USER } from "../../test/support/demo-fetch-config.ts";
import { demoHost } from "../../test/support/demo-host.ts";
import { percentile } from "../stats.ts";

/** Where the demo host's Postfix logs (scripts/demo-mailhost.sh: maillog_file). */
const POSTFIX_LOG = "/var/log/postfix-demo.log";

export interface FetchModeResult {
  readonly probes: number;
  readonly found: number;
  readonly arrivalToKnownMs: readonly number[];
  readonly overPostfixDelayMs: readonly number[];
  readonly rttMs: readonly number[];
  /** p50 / p95 of each. */
  readonly arrivalToKnown: readonly [number, number];
  readonly overPostfixDelay: readonly [number, number];
  readonly rtt: readonly [number, number];
}

/** The log's text appended since `offset`. */
function logSince(offset: number): string {
  const size = statSync(POSTFIX_LOG).size;
  if (size <= offset) return "";
  const buffer = Buffer.alloc(size - offset);
  const fd = openSync(POSTFIX_LOG, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("utf8");
}

/** Postfix's `delay=` (seconds, receipt to delivery done) of the one probe-fetch delivery in `text`. */
function postfixDelayMs(text: string): number | undefined {
  const lines = text
    .split("\n")
    .filter((line) => line.includes(`to=<${FETCH_USER}@`) && line.includes("status=sent"));
  const match = lines.length === 1 ? /\bdelay=([\d.]+)/.exec(lines[0] as string) : null;
  return match ? Number(match[1]) * 1000 : undefined;
}

const p50p95 = (values: readonly number[]) =>
  [percentile(values, 50) ?? Number.NaN, percentile(values, 95) ?? Number.NaN] as const;

export async function benchFetchMode(runs = 20): Promise<FetchModeResult> {
  const demo = demoHost();
  const dir = mkdtempSync(join(tmpdir(), "scout-bench-fetch-"));
  const lines: string[] = [];
  const arrivals: number[] = [];
  const newDir = join(lookupUser(FETCH_USER).home, "Maildir", "new");
  const watcher = watch(newDir, (_event, name) => {
    if (name && !name.startsWith(".")) arrivals.push(Date.now());
  });
  try {
    const config = demoFetchConfig(demo, dir, {
      source: "bench-fetch-mode",
      targets: [
        {
          id: "fetch-bench",
          probe: {
            to: `${FETCH_USER}@scout.test`,
            // Far apart: a probe found within a run was announced by IDLE, not polled.
            fetch: demoFetch(demo, "imap://127.0.0.1:143", { pollSeconds: 300, waitSeconds: 25 }),
          },
        },
      ],
    });
    const monitor = await LocalMonitor.open(
      config,
      consoleLogger((line) => lines.push(line)),
    );
    const arrivalToKnownMs: number[] = [];
    const overPostfixDelayMs: number[] = [];
    const rttMs: number[] = [];
    let probes = 0;
    try {
      await monitor.start({ schedule: false });
      for (let run = 0; run < runs; run++) {
        const logOffset = statSync(POSTFIX_LOG).size;
        arrivals.length = 0;
        await monitor.runCycle();
        const [probe] = await monitor.store.recent("fetch-bench", 0, 1);
        probes++;
        if (probe?.state !== "returned" || probe.returnedAtMs === undefined) continue;
        const rtt = probe.returnedAtMs - probe.sentAtMs;
        rttMs.push(rtt);
        // One probe per run: its delivery is the one arrival between the send and the find.
        const during = arrivals.filter((at) => at >= probe.sentAtMs && at <= (probe.returnedAtMs as number));
        if (during.length >= 1) arrivalToKnownMs.push(probe.returnedAtMs - (during[0] as number));
        const delay = postfixDelayMs(logSince(logOffset));
        if (delay !== undefined) overPostfixDelayMs.push(rtt - delay);
      }
    } finally {
      await monitor.stop();
    }
    return {
      probes,
      found: rttMs.length,
      arrivalToKnownMs,
      overPostfixDelayMs,
      rttMs,
      arrivalToKnown: p50p95(arrivalToKnownMs),
      overPostfixDelay: p50p95(overPostfixDelayMs),
      rtt: p50p95(rttMs),
    };
  } catch (error) {
    process.stderr.write(`${lines.slice(-30).join("\n")}\n`);
    throw error;
  } finally {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
