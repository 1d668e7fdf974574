/*
 * Returns processed per second, from the spool to the SQLite store, and the latency of each:
 * 1,000 probes recorded as sent, 1,000 returns made with email_return's own functions and
 * written to a real spool, then processed as the monitor does (read, correlate, remove;
 * SPOOL_CONCURRENCY at a time).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import { systemClock } from "../../core/ports/clock.ts";
import { buildProbe } from "../../core/roundtrip/probe-message.ts";
import { newProbeKey } from "../../core/wire/probe-key.ts";
import { newProbeId } from "../../core/wire/probe-token.ts";
import { Spool } from "../../local/adapters/spool.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { correlateSpooled } from "../../local/serve/correlate-spooled.ts";
import { SPOOL_CONCURRENCY } from "../../local/serve/spool-drainer.ts";
import { emailReturnReply } from "../../test/support/email-return-reply.ts";
import { percentile } from "../stats.ts";

const DOMAIN = "scout-returns.example.com";
const RETURN_TO = `returns@${DOMAIN}`;

export interface ReturnsResult {
  readonly count: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly returned: number;
}

export async function benchReturns(count = 1000): Promise<ReturnsResult> {
  const dir = mkdtempSync(join(tmpdir(), "scout-bench-returns-"));
  try {
    const key = { id: "bench", key: newProbeKey() };
    const store = await SqliteStore.open(join(dir, "scout.db"));
    const spool = await Spool.open(join(dir, "spool"));
    const now = Date.now();
    for (let index = 0; index < count; index++) {
      const probeId = newProbeId();
      const sentAtMs = now - 1_000;
      const probe = await buildProbe({
        probeId,
        targetId: "bench",
        to: "probe@mx.example.com",
        from: RETURN_TO,
        inboundDomain: DOMAIN,
        sentAtMs,
        key,
      });
      await store.recordSent({
        probeId,
        targetId: "bench",
        toAddress: "probe@mx.example.com",
        messageId: probe.messageId,
        sentAtMs,
        deadlineMs: now + 600_000,
      });
      const reply = emailReturnReply(probe.raw, {
        key,
        returnTo: RETURN_TO,
        nowMs: now,
        arrivedAtMs: now - 500,
        uniqueId: `bench-${index}`,
        sender: probe.envelope.from,
      });
      await spool.write(reply, {
        envelope: { from: "probe@mx.example.com", to: [RETURN_TO] },
        receivedAtMs: Date.now(),
      });
    }
    const latencies: number[] = [];
    let returned = 0;
    const started = performance.now();
    await mapBounded(await spool.pending(), SPOOL_CONCURRENCY, async (id) => {
      const began = performance.now();
      const outcome = await correlateSpooled(spool, id, {
        store,
        keys: new Map([["bench", [key] as const]]),
        returnAddress: RETURN_TO,
        inboundDomain: DOMAIN,
        maxAgeMs: 3_600_000,
        clock: systemClock,
      });
      if (outcome.kind === "returned") returned++;
      await spool.remove(id);
      latencies.push(performance.now() - began);
    });
    const seconds = (performance.now() - started) / 1000;
    store.close();
    return {
      count,
      perSecond: count / seconds,
      p50Ms: percentile(latencies, 50) ?? Number.NaN,
      p99Ms: percentile(latencies, 99) ?? Number.NaN,
      returned,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
