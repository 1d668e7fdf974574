import type { CheckResult, PhaseTimings } from "../../core/checks/result.ts";

/** Phases in the order they run, for perfdata. */
const PHASE_ORDER = [
  "resolve",
  "connect",
  "tls",
  "greeting",
  "capabilities",
  "starttls",
  "capabilitiesAfterTls",
  "relayTest",
  "login",
  "quit",
] as const;

const PERF_LABEL: Record<(typeof PHASE_ORDER)[number], string> = {
  resolve: "resolve",
  connect: "connect",
  tls: "tls",
  greeting: "greeting",
  capabilities: "capabilities",
  starttls: "starttls",
  capabilitiesAfterTls: "capabilities_tls",
  relayTest: "relay_test",
  login: "login",
  quit: "quit",
};

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function optionalSeconds(ms: number | undefined): string {
  return ms === undefined ? "" : seconds(ms);
}

/**
 * Nagios plugin output (Nagios Plugin Development Guidelines): one status line
 * `SERVICE STATUS - text | perfdata`, then further problems as long text. Perfdata is
 * `label=value[UOM];warn;crit;min;max`, times in seconds.
 */
export function formatNagios(result: CheckResult): string {
  const service = result.kind.toUpperCase();
  const summary = result.status === "OK" ? okSummary(result) : `${result.reason}: ${result.message}`;
  const first = `${service} ${result.status} - ${result.endpoint}: ${sanitize(summary)} | ${perfdata(result)}`;
  const more = result.problems
    .slice(1)
    .map((problem) => `${problem.status} ${problem.reason}: ${sanitize(problem.message)}`);
  if (result.serverReply !== undefined) more.push(`server said: ${sanitize(result.serverReply)}`);
  return [first, ...more].join("\n");
}

function okSummary(result: CheckResult): string {
  const parts = [`${seconds(result.responseMs)} s response`];
  if (result.tls) parts.push(result.tls.protocol);
  const days = result.tls?.certificate?.daysLeft;
  if (days !== undefined) parts.push(`certificate ${days} days left`);
  if (result.startTls === "not-offered") parts.push("no STARTTLS (optional)");
  if (result.openRelay === "refused") parts.push("relaying refused");
  if (result.login === "ok")
    parts.push(result.authMechanism ? `login ok (${result.authMechanism})` : "login ok");
  return parts.join(", ");
}

export function perfdata(result: CheckResult): string {
  const t = result.thresholds;
  const items = [
    `time=${seconds(result.responseMs)}s;${optionalSeconds(t.warningMs)};${optionalSeconds(t.criticalMs)};0`,
  ];
  const timings: PhaseTimings = result.timings;
  for (const phase of PHASE_ORDER) {
    const ms = timings[phase];
    if (ms !== undefined) items.push(`${PERF_LABEL[phase]}=${seconds(ms)}s;;;0`);
  }
  const days = result.tls?.certificate?.daysLeft;
  if (days !== undefined) items.push(`cert_days=${days};${t.certWarningDays};${t.certCriticalDays}`);
  return items.join(" ");
}

/** A `|` in plugin output starts perfdata: keep servers' text from forging it. */
function sanitize(text: string): string {
  return text.replace(/\|/g, "/").replace(/[\r\n]+/g, " ");
}
