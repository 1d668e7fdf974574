/**
 * Webhook delivery benchmark (local mode): events published into the SQLite outbox, sent by
 * the WebhookDispatcher (8 at a time) to a node:http receiver on 127.0.0.1, in a child process
 * as a real receiver would be (bench/webhooks/receiver.ts).
 *   throughput: a burst of events published at once; delivered events per second.
 *   delay: events published at a steady 1,000/s; time from publish() to the POST's arrival.
 * Run: npx tsx bench/webhooks/run.ts   (writes bench/webhooks/results.md)
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ScoutEvent } from "../../core/events/event.ts";
import { newEventId } from "../../core/events/event-id.ts";
import { retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { SqliteOutbox } from "../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { WebhookDispatcher } from "../../local/serve/webhook-dispatcher.ts";
import { fmt, percentile } from "../stats.ts";
import { renderTable } from "../table.ts";

const BURST_EVENTS = 10_000;
const PACED_RATE_PER_S = 1_000;
const PACED_SECONDS = 5;
const TARGET_RATE = 1_000;
const TARGET_P99_MS = 50;
/** The whole run is bounded: a broken build ends it instead of hanging. */
const RUN_LIMIT_MS = 240_000;
const HERE = dirname(fileURLToPath(import.meta.url));

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const receiver = fork(join(HERE, "receiver.ts"), [], { execArgv: ["--import", "tsx"] });
  // The receiver ends with this run, however it ends.
  const limit = setTimeout(() => {
    receiver.kill();
    process.stderr.write("benchmark took too long; stopped\n");
    process.exit(1);
  }, RUN_LIMIT_MS);
  const ask = <T>(message: object, pick: (reply: Record<string, unknown>) => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (reply: Record<string, unknown>) => {
        const value = pick(reply);
        if (value === undefined) return;
        receiver.off("message", onMessage);
        resolve(value);
      };
      receiver.on("message", onMessage);
      if (Object.keys(message).length) receiver.send(message);
    });
  const port = await ask({}, (reply) => reply.port as number | undefined);
  const url = `http://127.0.0.1:${port}/hook`;
  const waitFor = (count: number) =>
    ask({ expect: count }, (reply) => (reply.reached === count ? true : undefined));

  const dir = mkdtempSync(join(tmpdir(), "scout-webhook-bench-"));
  const store = await SqliteStore.open(join(dir, "scout.db"));
  const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
  const endpoints = [{ id: "bench", url, secret, timeoutMs: 10_000 }];
  const outbox = new SqliteOutbox(store.db, endpoints, { now: Date.now });
  const failures: string[] = [];
  const dispatcher = new WebhookDispatcher({
    outbox,
    endpoints,
    policy: retryPolicyFor(3_600),
    log: {
      info: () => {},
      warn: (m, f) => failures.push(`${m} ${f?.error ?? ""}`),
      error: (m) => failures.push(m),
    },
  });
  dispatcher.start();

  // Warm-up: the first connections and JIT should not count.
  await outbox.publish(makeEvents(200));
  await waitFor(200);
  receiver.send({ clear: true });

  // Throughput: one burst, published in batches of 100 as a busy monitor would.
  const burst = makeEvents(BURST_EVENTS);
  const burstStart = now();
  for (let i = 0; i < burst.length; i += 100) await outbox.publish(burst.slice(i, i + 100));
  await waitFor(BURST_EVENTS);
  const burstSeconds = (now() - burstStart) / 1000;
  const throughput = BURST_EVENTS / burstSeconds;
  receiver.send({ clear: true });

  // Delay: a steady 1,000 events/s, 10 every 10 ms, each publish timed.
  const published = new Map<string, number>();
  const total = PACED_RATE_PER_S * PACED_SECONDS;
  const pacedStart = now();
  for (let sent = 0; sent < total; ) {
    const due = pacedStart + (sent / PACED_RATE_PER_S) * 1000;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = makeEvents(10);
    const at = now();
    await outbox.publish(batch);
    for (const event of batch) published.set(event.id, at);
    sent += batch.length;
  }
  await waitFor(total);
  const arrivals = new Map(
    await ask({ report: true }, (reply) => reply.arrivals as Array<[string, number]> | undefined),
  );
  const delays = [...published].map(([id, at]) => (arrivals.get(id) ?? Number.NaN) - at);

  await dispatcher.stop();
  store.close();
  receiver.send({ stop: true });
  clearTimeout(limit);
  rmSync(dir, { recursive: true, force: true });

  const p50 = percentile(delays, 50);
  const p99 = percentile(delays, 99);
  const max = percentile(delays, 100);
  const met = (ok: boolean) => (ok ? "met" : "not met");
  const table = renderTable(
    ["measure", "result", "target", "verdict"],
    [
      [
        "delivered events/s (burst of 10,000)",
        fmt(throughput, 0),
        `>= ${TARGET_RATE.toLocaleString("en")}`,
        met(throughput >= TARGET_RATE),
      ],
      [`publish -> POST p50 at ${PACED_RATE_PER_S}/s`, `${fmt(p50)} ms`, "-", "-"],
      [
        `publish -> POST p99 at ${PACED_RATE_PER_S}/s`,
        `${fmt(p99)} ms`,
        `< ${TARGET_P99_MS} ms`,
        met(p99 !== undefined && p99 < TARGET_P99_MS),
      ],
      [`publish -> POST max at ${PACED_RATE_PER_S}/s`, `${fmt(max)} ms`, "-", "-"],
    ],
    "md",
  );
  const report = [
    "# Webhook delivery benchmark",
    "",
    "SQLite outbox (WAL, one file) and WebhookDispatcher (8 in flight, signed POSTs, keep-alive) to a",
    "node:http receiver in its own process on 127.0.0.1 answering 204. Throughput: 10,000 events published in batches of",
    `100 at once. Delay: ${total.toLocaleString("en")} events published at a steady ${PACED_RATE_PER_S}/s (10 every 10 ms),`,
    "from publish() resolving to the POST body's arrival at the receiver.",
    "",
    table,
    "",
    `date: ${new Date().toISOString()}; machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? "?"}; Node ${process.version}`,
    `failed attempts logged: ${failures.length}`,
    "The tail (p99, max) moves with other load on the machine: run it a few times before reading much into one run.",
    "",
    "Run: `npx tsx bench/webhooks/run.ts`",
    "",
  ].join("\n");
  process.stdout.write(report);
  writeFileSync(join(HERE, "results.md"), report);
}

function makeEvents(count: number): ScoutEvent[] {
  const at = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    id: newEventId(at),
    type: "check.completed" as const,
    version: 1 as const,
    time: new Date(at).toISOString(),
    customer: "default",
    target: "mx1",
    data: { endpoint: "smtps://mx1.example.com", status: "OK", reason: "ok", responseMs: 42 + (i % 7) },
  }));
}

await main();
