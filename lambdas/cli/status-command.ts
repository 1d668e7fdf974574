import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SqliteStore } from "../adapters/local/sqlite-store.ts";
import type { Status } from "../checks/reasons.ts";
import { ConfigError } from "../core/config/parse-config.ts";
import { percentile } from "../core/percentiles.ts";
import { loadConfigFile } from "../local/load-config.ts";
import { DATABASE_FILE } from "../local/monitor.ts";
import type { ProbeRecord } from "../ports/probe-store.ts";
import type { CommandIo } from "./io.ts";

export const STATUS_HELP = `Usage: email-scout status --config FILE [--json] [--hours N]

Prints the latest result of every endpoint of every target, the newest round trip per
target, and the round-trip times of the last N hours (default 24): p50, p95, and how many
probes were lost, late or bounced. Reads the SQLite database of "email-scout serve".
  --json     the same as JSON
  --color    colour even when stdout is not a terminal (--no-color: never)
`;

const DAY_MS = 86_400_000;
const COLOURS: Record<Status, string> = {
  OK: "\u001b[32m",
  WARNING: "\u001b[33m",
  CRITICAL: "\u001b[31m",
  UNKNOWN: "\u001b[35m",
};

export async function statusCommand(
  args: string[],
  io: CommandIo,
  isTty = Boolean(process.stdout.isTTY),
): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    io.stderr(`email-scout status: ${(error as Error).message}; see email-scout status --help`);
    return 2;
  }
  const { values } = parsed;
  return run(values, io, isTty);
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      json: { type: "boolean" },
      hours: { type: "string" },
      color: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}

async function run(
  values: ReturnType<typeof parseOptions>["values"],
  io: CommandIo,
  isTty: boolean,
): Promise<number> {
  if (values.help) {
    io.stdout(STATUS_HELP);
    return 0;
  }
  if (!values.config) {
    io.stderr("email-scout status: --config FILE is required");
    return 2;
  }
  const hours = values.hours === undefined ? 24 : Number(values.hours);
  if (!Number.isFinite(hours) || hours <= 0) {
    io.stderr(`email-scout status: --hours must be a positive number, not "${values.hours}"`);
    return 2;
  }
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(values.config);
  } catch (error) {
    io.stderr(error instanceof ConfigError ? error.message : String(error));
    return 2;
  }
  const dbPath = join(config.dataDir, DATABASE_FILE);
  if (!existsSync(dbPath)) {
    io.stderr(
      `email-scout status: no results yet (${dbPath} does not exist); start the monitor with: email-scout serve --config ${values.config}`,
    );
    return 1;
  }
  const store = await SqliteStore.open(dbPath);
  try {
    const since = Date.now() - hours * 3_600_000;
    const checks = await store.latestCheckResults();
    const targets = await Promise.all(
      config.targets.map(async (target) => {
        const probes = await store.recent(target.id, since, 10_000);
        return {
          id: target.id,
          endpoints: checks.filter((c) => c.targetId === target.id).map((c) => c.result),
          roundTrip: target.probe ? roundTripSummary(probes) : undefined,
        };
      }),
    );
    const rejections = await store.rejectionCounts(Date.now() - DAY_MS);
    if (values.json) {
      io.stdout(JSON.stringify({ hours, targets, rejectionsLast24h: rejections }, null, 2));
      return 0;
    }
    const colour = values["no-color"] ? false : (values.color ?? isTty);
    const paint = (status: Status, text: string) => (colour ? `${COLOURS[status]}${text}\u001b[0m` : text);
    const lines: string[] = [];
    for (const target of targets) {
      lines.push(`${target.id}`);
      if (target.endpoints.length === 0 && config.targets.find((t) => t.id === target.id)?.endpoints.length) {
        lines.push("  (no check has run yet)");
      }
      for (const result of target.endpoints) {
        const days = result.tls?.certificate?.daysLeft;
        lines.push(
          `  ${paint(result.status, result.status.padEnd(8))} ${result.endpoint.padEnd(34)} ${result.reason.padEnd(22)} ${(result.responseMs / 1000).toFixed(3)} s${days === undefined ? "" : `  cert ${days} d`}  ${ago(result.startedAt)}`,
        );
      }
      const rt = target.roundTrip;
      if (rt) {
        const last = rt.last
          ? `${rt.last.state}${rt.last.rttMs !== undefined ? ` ${(rt.last.rttMs / 1000).toFixed(3)} s` : ""} ${ago(new Date(rt.last.sentAtMs).toISOString())}`
          : "no probe yet";
        const status: Status = !rt.last
          ? "UNKNOWN"
          : rt.last.state === "returned" || rt.last.state === "sent"
            ? "OK"
            : rt.last.state === "late"
              ? "WARNING"
              : "CRITICAL";
        lines.push(`  ${paint(status, "ROUNDTRIP".padEnd(8))} last: ${last}`);
        lines.push(
          `           last ${hours} h: ${rt.probes} probes, p50 ${fmt(rt.p50Ms)}, p95 ${fmt(rt.p95Ms)}, returned ${rt.returned}, late ${rt.late}, lost ${rt.lost}, bounced ${rt.bounced}, send-failed ${rt.sendFailed}`,
        );
      }
    }
    const rejected = Object.entries(rejections).map(([reason, count]) => `${reason} ${count}`);
    lines.push(`rejected returns (24 h): ${rejected.length ? rejected.join(", ") : "none"}`);
    io.stdout(lines.join("\n"));
    return 0;
  } finally {
    store.close();
  }
}

function roundTripSummary(probes: ProbeRecord[]) {
  const rtts = probes
    .filter((p) => p.state === "returned" && p.rttMs !== undefined)
    .map((p) => p.rttMs as number);
  const count = (state: ProbeRecord["state"]) => probes.filter((p) => p.state === state).length;
  return {
    last: probes[0],
    probes: probes.length,
    p50Ms: percentile(rtts, 50),
    p95Ms: percentile(rtts, 95),
    returned: count("returned"),
    late: count("late"),
    lost: count("lost"),
    bounced: count("bounced"),
    sendFailed: count("send-failed"),
  };
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(3)} s`;
}

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120
    ? `${seconds} s ago`
    : seconds < 7200
      ? `${Math.round(seconds / 60)} min ago`
      : `${Math.round(seconds / 3600)} h ago`;
}
