import { isIP } from "node:net";
import { Gauge, Registry } from "prom-client";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import { phaseSeconds } from "./metrics.ts";

/*
 * One /probe answer. Where blackbox_exporter has a metric that means the same thing, it has
 * blackbox's name and unit (prober/tcp.go, prober/tls.go), so rules and dashboards written for
 * its tcp module keep working; what only Email Scout knows is under email_scout_probe_*.
 * No labels name the target: Prometheus adds `instance` (the relabelled target) itself.
 */

/**
 * probe_success: the mail service works. A WARNING (a certificate inside certWarningDays, a
 * slow answer) keeps it 1 as blackbox keeps a soon-expiring certificate a success; it shows in
 * email_scout_probe_status. A greeting that fails expectBanner is a failure, as blackbox's
 * failed regex is.
 */
export function probeSucceeded(result: CheckResult): boolean {
  if (result.status !== "OK" && result.status !== "WARNING") return false;
  return !bannerFailed(result);
}

export async function renderProbeMetrics(
  result: CheckResult,
): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers });

  gauge("probe_success", "Whether the check succeeded (OK or WARNING, banner as expected).").set(
    probeSucceeded(result) ? 1 : 0,
  );
  gauge(
    "probe_duration_seconds",
    "How long the check took to complete in seconds (resolve through quit).",
  ).set(result.totalMs / 1000);
  if (result.timings.resolve !== undefined) {
    gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds").set(
      result.timings.resolve / 1000,
    );
  }
  const family = result.address ? isIP(result.address) : 0;
  if (family !== 0) {
    gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6").set(family);
  }
  const tls = result.tls;
  if (tls) {
    gauge("probe_tls_version_info", "The TLS version used", ["version"]).set(
      { version: tlsVersionName(tls.protocol) },
      1,
    );
  }
  if (tls?.certificate) {
    gauge(
      "probe_ssl_earliest_cert_expiry",
      "Returns the server certificate's expiry in unixtime (the leaf: the certificate a mail client checks dates on first)",
    ).set(Math.floor(Date.parse(tls.certificate.notAfter) / 1000));
  }
  if (result.thresholds.expectBanner !== undefined) {
    gauge(
      "probe_failed_due_to_regex",
      "Indicates if probe failed due to regex (the module's expectBanner)",
    ).set(bannerFailed(result) ? 1 : 0);
  }

  gauge(
    "email_scout_probe_status",
    "Status of the check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios semantics).",
  ).set(EXIT_CODES[result.status]);
  const phases = gauge(
    "email_scout_probe_phase_duration_seconds",
    'Duration of each phase of the check; phase="response" is connect through login, phase="total" resolve through quit.',
    ["phase"],
  );
  for (const [phase, seconds] of phaseSeconds(result)) phases.set({ phase }, seconds);
  gauge(
    "email_scout_probe_info",
    "The check's verdict: its reason code (see email-scout check --reasons), status, protocol and the phase that failed, if any.",
    ["reason", "status", "protocol", "failed_phase"],
  ).set(
    {
      reason: result.reason,
      status: result.status,
      protocol: result.protocol,
      failed_phase: result.failedPhase ?? "",
    },
    1,
  );
  return { contentType: registry.contentType, body: await registry.metrics() };
}

function bannerFailed(result: CheckResult): boolean {
  return result.problems.some((problem) => problem.reason === "banner-mismatch");
}

/** Node says "TLSv1.3"; blackbox (Go's tls.VersionName) says "TLS 1.3". */
export function tlsVersionName(protocol: string): string {
  const match = /^TLSv(\d)(?:\.(\d))?$/.exec(protocol);
  if (!match) return protocol;
  return `TLS ${match[1]}.${match[2] ?? "0"}`;
}
