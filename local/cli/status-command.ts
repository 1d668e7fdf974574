import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../../core/config/config-error.ts";
import { loadConfigFile } from "../../core/config/load-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import { isPostureSubject } from "../../core/posture/posture-check-result.ts";
import { SqliteStatusStore } from "../adapters/sqlite-status-store.ts";
import { buildBoard } from "../dashboard/board.ts";
import { DATABASE_FILE } from "../serve/monitor.ts";
import type { CommandIo } from "./io.ts";
import { withMonitorDatabase } from "./monitor-database.ts";
import { renderStatusBoard } from "./status-board.ts";
import { formatSubjectNagios } from "./status-nagios.ts";

export const STATUS_HELP = `Usage: email-scout status --config FILE [--json] [--no-color] [--hours N]
       email-scout status --config FILE --nagios TARGET/SUBJECT

Prints the status board: every endpoint of every target and each target's round trip, with
its current status and reason, since when it holds, the last check or probe, the response
time or RTT, and certificate days left; then the round-trip times of the last N hours
(default 24): p50, p95, and how many probes were lost, late, bounced or failed to send.
Reads the SQLite database of "email-scout serve"; the dashboard shows the same board.
  --json      the board as JSON, exactly as the dashboard's GET /api/status returns it
  --no-color  never colour (colour is on when stdout is a terminal and NO_COLOR is unset)
  --color     colour even when stdout is not a terminal
  --hours N   the window of the round-trip summary (default 24)
  --nagios TARGET/SUBJECT
              one subject as Nagios plugin output and exit code, from the store, with no
              network check: SUBJECT is an endpoint URL as configured or "roundtrip", e.g.
              --nagios demo/smtp://127.0.0.1 or --nagios demo/roundtrip. UNKNOWN when the
              last result is older than three schedule intervals (or the round-trip deadline
              plus one interval): serve may be down.
`;

export async function statusCommand(
  args: string[],
  io: CommandIo,
  isTty = Boolean(process.stdout.isTTY),
  clock: Clock = systemClock,
): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    io.stderr(`email-scout status: ${(error as Error).message}; see email-scout status --help`);
    return 2;
  }
  const { values } = parsed;
  return run(values, io, isTty, clock);
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      json: { type: "boolean" },
      hours: { type: "string" },
      nagios: { type: "string" },
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
  clock: Clock,
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
  let config: ScoutConfig;
  try {
    config = loadConfigFile(values.config, "local");
  } catch (error) {
    io.stderr(error instanceof ConfigError ? error.message : String(error));
    return 2;
  }
  if (values.nagios !== undefined) return nagiosStatus(config, values.config, values.nagios, io, clock);
  return withMonitorDatabase(
    config,
    values.config,
    io,
    "email-scout status: no results yet",
    async (store) => {
      const board = await buildBoard(
        { config, store, statuses: new SqliteStatusStore(store.db) },
        clock.now(),
        { windowHours: hours },
      );
      if (values.json) {
        io.stdout(JSON.stringify(board, null, 2));
        return 0;
      }
      // https://no-color.org: a set, non-empty NO_COLOR turns colour off unless --color asks for it.
      const noColorEnv = Boolean(io.env.NO_COLOR);
      const colour = values["no-color"] ? false : (values.color ?? (isTty && !noColorEnv));
      io.stdout(renderStatusBoard(board, { colour }));
      return 0;
    },
  );
}

/** `--nagios`: one subject, plugin output on stdout, its exit code; UNKNOWN (3) when there is nothing to read. */
async function nagiosStatus(
  config: ScoutConfig,
  configPath: string,
  wanted: string,
  io: CommandIo,
  clock: Clock,
): Promise<number> {
  const intervalMs = config.schedule.intervalSeconds * 1000;
  const subject = wanted.slice(wanted.indexOf("/") + 1);
  // A probe's result comes after its deadline, a posture check's once per posture interval.
  const staleAfterMs =
    subject === "roundtrip"
      ? config.roundTrip.deadlineSeconds * 1000 + 2 * intervalMs
      : isPostureSubject(subject)
        ? config.posture.intervalSeconds * 1000 + 2 * intervalMs
        : 3 * intervalMs;
  const code = await withMonitorDatabase(
    config,
    configPath,
    { ...io, stderr: (text) => io.stdout(`EMAIL-SCOUT UNKNOWN - ${text}`) },
    "no results yet",
    async (store) => {
      const board = await buildBoard(
        { config, store, statuses: new SqliteStatusStore(store.db) },
        clock.now(),
        { windowHours: 1 },
      );
      const { line, code } = formatSubjectNagios(board, wanted, staleAfterMs);
      io.stdout(line);
      return code;
    },
  );
  // withMonitorDatabase answers 1 when there is no database yet: for a plugin that is UNKNOWN.
  return code === 1 && !existsSync(join(config.dataDir, DATABASE_FILE)) ? 3 : code;
}
