import { Counter, Histogram, Registry } from "prom-client";
import type { CheckResult } from "../../core/checks/result.ts";
import type { CorrelatedProbe, MetricsObserver } from "../../core/ports/metrics.ts";
import type { RejectReason } from "../../core/ports/probe-store.ts";

/** Check durations in seconds: a healthy check takes tens of ms, a timeout up to the deadline. */
const CHECK_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The job's metrics in local mode, as prom-client counters of this process (since it started).
 * They sit beside the store-derived series of /metrics (local/dashboard/metrics.ts), which
 * survive restarts; these say what this process did, e.g. how many checks it ran and how long
 * they took, which the store keeps only as the latest result per endpoint.
 */
export class PromMetrics implements MetricsObserver {
  readonly registry = new Registry();
  private readonly checkDuration: Histogram<"target" | "protocol" | "status">;
  private readonly probesSent: Counter<"target" | "result">;
  private readonly correlated: Counter<"target" | "outcome">;
  private readonly rejected: Counter<"reason">;
  private readonly verdicts: Counter<"target" | "check" | "result">;
  private readonly postureChecks: Counter<"target" | "check" | "status">;

  constructor() {
    const registers = [this.registry];
    this.checkDuration = new Histogram({
      name: "email_scout_process_check_duration_seconds",
      help: "Service checks this process ran, by target, protocol and status: response time (connect through login).",
      labelNames: ["target", "protocol", "status"],
      buckets: CHECK_BUCKETS,
      registers,
    });
    this.probesSent = new Counter({
      name: "email_scout_process_probes_sent_total",
      help: 'Probes this process sent, by target; result="send-failed" when the relay refused them.',
      labelNames: ["target", "result"],
      registers,
    });
    this.correlated = new Counter({
      name: "email_scout_process_probe_outcomes_total",
      help: "Probe outcomes this process recorded (returned, late, bounced from returns; lost from its sweeps).",
      labelNames: ["target", "outcome"],
      registers,
    });
    this.verdicts = new Counter({
      name: "email_scout_process_probe_verdicts_total",
      help: "The receiver's verdicts on probes this process saw delivered, by target, check (spf, dkim, dmarc, arc, spam) and result.",
      labelNames: ["target", "check", "result"],
      registers,
    });
    this.postureChecks = new Counter({
      name: "email_scout_process_posture_checks_total",
      help: "Posture checks of the targets' domains this process ran, by target, check (mx, spf, dmarc, ...) and status.",
      labelNames: ["target", "check", "status"],
      registers,
    });
    this.rejected = new Counter({
      name: "email_scout_process_returns_rejected_total",
      help: "Inbound messages this process rejected, by reason.",
      labelNames: ["reason"],
      registers,
    });
  }

  checkCompleted(target: string, result: CheckResult): void {
    if (result.posture !== undefined) {
      this.postureChecks.inc({ target, check: result.posture.check, status: result.status });
      return;
    }
    this.checkDuration.observe(
      { target, protocol: result.protocol, status: result.status },
      result.responseMs / 1000,
    );
  }

  probeSent(target: string, sendFailed: boolean): void {
    this.probesSent.inc({ target, result: sendFailed ? "send-failed" : "sent" });
  }

  probesLost(target: string, count: number): void {
    // inc(0) makes the series exist, so a target that never lost a probe shows 0, not nothing.
    this.correlated.inc({ target, outcome: "lost" }, count);
  }

  probeCorrelated(kind: "returned" | "late" | "bounced", probe: CorrelatedProbe): void {
    this.correlated.inc({ target: probe.targetId, outcome: kind });
    const { verdicts } = probe;
    if (verdicts === undefined) return;
    for (const check of ["spf", "dkim", "dmarc", "arc"] as const) {
      const result = verdicts[check]?.result;
      if (result !== undefined) this.verdicts.inc({ target: probe.targetId, check, result });
    }
    for (const spam of verdicts.spam) {
      this.verdicts.inc({ target: probe.targetId, check: "spam", result: spam.verdict });
    }
    const folder = verdicts.folder;
    if (folder !== undefined) {
      this.verdicts.inc({ target: probe.targetId, check: "folder", result: folder.junk ? "junk" : "inbox" });
    }
  }

  returnRejected(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }
}
