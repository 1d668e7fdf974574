import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { SqliteStore } from "../adapters/sqlite-store.ts";
import { type BoardSources, buildBoard } from "./board.ts";
import { probeStateCounts, rejectionTotals, returnedRtts } from "./queries.ts";
import { addVerdictGauges } from "./verdict-gauges.ts";

/** Round-trip buckets in seconds: mail takes seconds to minutes, and a lost probe 5 min or more. */
export const ROUNDTRIP_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Renders /metrics. A fresh registry is built from the store on every scrape instead of
 * keeping collectors in memory: the SQLite file is the one source of truth (the monitor
 * writes it, perhaps from another process), so a restart neither resets the counters nor
 * counts a probe twice, and a scrape costs a few aggregate queries. The price: values are
 * totals over what the store still retains, so pruning old rows looks like a counter reset
 * to Prometheus (which rate()/increase() handle).
 */
export async function renderMetrics(
  sources: BoardSources & { readonly store: SqliteStore },
  nowMs: number,
  processMetrics?: Registry,
): Promise<{ contentType: string; body: string }> {
  const { store } = sources;
  // One read of the latest results (a scan of every stored check) serves the board and the gauges.
  const latest = await store.latestCheckResults();
  const board = await buildBoard(sources, nowMs, { latest });
  const registry = new Registry();
  const registers = [registry];

  const roundTrip = new Histogram({
    name: "email_scout_roundtrip_seconds",
    help: "Round-trip time of every retained probe that came back (returned or late), by the monitor's clock.",
    labelNames: ["target"],
    buckets: ROUNDTRIP_BUCKETS,
    registers,
  });
  for (const { targetId, rttMs } of returnedRtts(store.db))
    roundTrip.observe({ target: targetId }, rttMs / 1000);

  const probes = new Counter({
    name: "email_scout_probes_total",
    help: 'Probes by outcome over retained probes. state="lost" counts every probe that missed its deadline, including those that came back late afterwards.',
    labelNames: ["target", "state"],
    registers,
  });
  for (const { targetId, state, count } of probeStateCounts(store.db)) {
    if (state === "sent") continue; // still in flight: not an outcome yet
    probes.inc({ target: targetId, state }, count);
    // A late probe was lost first; counting it under "lost" too keeps "lost" from dropping when it returns.
    if (state === "late") probes.inc({ target: targetId, state: "lost" }, count);
  }

  const rejected = new Counter({
    name: "email_scout_returns_rejected_total",
    help: "Inbound messages that did not become a measurement (forged, unknown probe, malformed) and the listener's refusals (listener-*), by reason.",
    labelNames: ["reason"],
    registers,
  });
  for (const { reason, count } of rejectionTotals(store.db)) rejected.inc({ reason }, count);

  const status = new Gauge({
    name: "email_scout_status",
    help: "Current status of each subject (an endpoint URL, posture:<check>, or roundtrip): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    labelNames: ["target", "subject"],
    registers,
  });
  for (const target of board.targets)
    for (const row of target.rows)
      status.set({ target: target.id, subject: row.subject }, EXIT_CODES[row.status]);

  addVerdictGauges(board, registers);

  const checkDuration = new Gauge({
    name: "email_scout_check_duration_seconds",
    help: 'Duration of each phase of the latest check of each endpoint; phase="response" is connect through login, phase="total" resolve through quit.',
    labelNames: ["target", "endpoint", "protocol", "phase"],
    registers,
  });
  const expirySeconds = new Gauge({
    name: "email_scout_certificate_expiry_seconds",
    help: "Seconds until the endpoint's certificate expires (negative once expired), from the latest check.",
    labelNames: ["target", "endpoint"],
    registers,
  });
  const daysLeft = new Gauge({
    name: "email_scout_certificate_days_left",
    help: "Whole days until the endpoint's certificate expires, rounded down, from the latest check.",
    labelNames: ["target", "endpoint"],
    registers,
  });
  const posture = new Gauge({
    name: "email_scout_posture_status",
    help: "Latest result of each posture check of a target's domain (check: mx, spf, dmarc, ...): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, before flap control (email_scout_status has the tracked one, subject posture:<check>).",
    labelNames: ["target", "check", "domain"],
    registers,
  });
  for (const { targetId, result } of latest) {
    if (result.posture !== undefined) {
      const { check, domain } = result.posture;
      posture.set({ target: targetId, check, domain }, EXIT_CODES[result.status]);
      continue;
    }
    for (const [phase, seconds] of phaseSeconds(result)) {
      checkDuration.set(
        { target: targetId, endpoint: result.endpoint, protocol: result.protocol, phase },
        seconds,
      );
    }
    const certificate = result.tls?.certificate;
    if (!certificate) continue;
    const labels = { target: targetId, endpoint: result.endpoint };
    expirySeconds.set(labels, Math.round((Date.parse(certificate.notAfter) - nowMs) / 1000));
    daysLeft.set(labels, certificate.daysLeft);
  }
  // The process's own counters (PromMetrics) follow the store's series; their names differ
  // ("email_scout_process_"), so the two never clash.
  const body = await registry.metrics();
  return {
    contentType: registry.contentType,
    body: processMetrics === undefined ? body : `${body}\n${await processMetrics.metrics()}`,
  };
}

/** Each phase of a check in seconds, with "response" (connect through login) and "total". */
export function phaseSeconds(result: CheckResult): [string, number][] {
  const phases: [string, number][] = Object.entries(result.timings).flatMap(([phase, ms]) =>
    ms === undefined ? [] : [[phase, ms / 1000] as [string, number]],
  );
  phases.push(["response", result.responseMs / 1000], ["total", result.totalMs / 1000]);
  return phases;
}
