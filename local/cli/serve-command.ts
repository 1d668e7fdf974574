import { parseArgs } from "node:util";
import { ConfigError } from "../../core/config/config-error.ts";
import { loadConfigFile } from "../../core/config/load-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { SqliteStatusStore } from "../adapters/sqlite-status-store.ts";
import { TlsIdentityFiles } from "../adapters/tls-identity-files.ts";
import { type Dashboard, startDashboard } from "../dashboard/start-dashboard.ts";
import { consoleLogger } from "../serve/console-logger.ts";
import { LocalMonitor } from "../serve/monitor.ts";
import { readPrivateFile } from "../serve/private-file.ts";
import type { CommandIo } from "./io.ts";
import { listenProblem, type PlannedListener, preflightListeners } from "./listen-preflight.ts";

export const SERVE_HELP = `Usage: email-scout serve --config FILE [--once]

Runs Email Scout on this machine (local mode): on every schedule interval it checks every
endpoint of every target, sends one signed probe per round-trip target, and sweeps probes
that missed their deadline to "lost". Its SMTP listener takes the returns (and bounces),
spools each to disk before answering 250, and correlates it. Results go to SQLite under the
config's dataDir; see them with "email-scout status --config FILE".

  --config FILE   the configuration (YAML or JSON; see config/demo.yaml)
  --once          run one cycle, wait for its probes' returns or deadlines, and exit
                  (webhook retries not yet due stay in the outbox for the next run)
Unless the config says dashboard.enabled: false, it also serves the dashboard, its JSON API
and /metrics (Prometheus) on dashboard.host:dashboard.port (default http://127.0.0.1:8025/).
Logs go to stderr, one line per event. Stop with Ctrl-C or SIGTERM (it finishes the cycle).
`;

export async function serveCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    io.stderr(`email-scout serve: ${(error as Error).message}; see email-scout serve --help`);
    return 2;
  }
  const { values } = parsed;
  return run(values, io);
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      once: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}

async function run(values: ReturnType<typeof parseOptions>["values"], io: CommandIo): Promise<number> {
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  if (!values.config) {
    io.stderr("email-scout serve: --config FILE is required (try config/demo.yaml)");
    return 2;
  }
  const log = consoleLogger((line) => io.stderr(line));
  let config: ScoutConfig;
  try {
    config = loadConfigFile(values.config, "local");
  } catch (error) {
    io.stderr(
      error instanceof ConfigError ? error.message : `email-scout serve: ${(error as Error).message}`,
    );
    return 2;
  }
  const listeners = plannedListeners(config, values.once === true);
  const busy = await preflightListeners(listeners);
  if (busy !== undefined) {
    io.stderr(`email-scout serve: ${busy}`);
    return 2;
  }
  let monitor: LocalMonitor;
  try {
    monitor = await LocalMonitor.open(config, log);
  } catch (error) {
    io.stderr(`email-scout serve: ${(error as Error).message}`);
    return 2;
  }
  try {
    await monitor.start(values.once ? { schedule: false } : undefined);
  } catch (error) {
    await monitor.stop().catch(() => undefined);
    io.stderr(`email-scout serve: ${startProblem(listeners[0] as PlannedListener, error)}`);
    return 2;
  }
  if (values.once) {
    await monitor.runCycle();
    await monitor.waitForOpenProbes();
    await monitor.stop();
    return 0;
  }
  let dashboard: Dashboard | undefined;
  try {
    dashboard = await openDashboard(monitor, log);
  } catch (error) {
    await monitor.stop();
    const board = listeners[1];
    io.stderr(
      `email-scout serve: ${board ? startProblem(board, error) : `dashboard: ${(error as Error).message}`}`,
    );
    return 2;
  }
  log.info("email-scout serve running", {
    config: values.config,
    intervalSeconds: monitor.config.schedule.intervalSeconds,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  // The dashboard reads the store, so it closes first.
  await dashboard?.close();
  await monitor.stop();
  return 0;
}

/** The sockets serve opens, the SMTP listener first: checked before anything is created. */
function plannedListeners(config: ScoutConfig, once: boolean): PlannedListener[] {
  const listeners: PlannedListener[] = [{ key: "inbound.listen.port", ...config.inbound.listen }];
  if (!once && config.dashboard.enabled) {
    listeners.push({ key: "dashboard.port", host: config.dashboard.host, port: config.dashboard.port });
  }
  return listeners;
}

/** A listen that failed after the preflight (a race) reads like the preflight's finding. */
function startProblem(listener: PlannedListener, error: unknown): string {
  return typeof (error as NodeJS.ErrnoException).code === "string" &&
    /^E(ADDRINUSE|ACCES|ADDRNOTAVAIL)$/.test((error as NodeJS.ErrnoException).code as string)
    ? listenProblem(listener, error)
    : (error as Error).message;
}

/** The operator's page, /api and /metrics, when the config enables it (the default, on 127.0.0.1:8025). */
async function openDashboard(monitor: LocalMonitor, log: Logger): Promise<Dashboard | undefined> {
  const board = monitor.config.dashboard;
  if (!board.enabled) return undefined;
  return startDashboard({
    host: board.host,
    port: board.port,
    ...(board.tokenFile ? { token: readPrivateFile(board.tokenFile, "dashboard.tokenFile").trim() } : {}),
    ...(board.tls ? { tls: dashboardIdentity(board.tls, log) } : {}),
    store: monitor.store,
    statuses: new SqliteStatusStore(monitor.store.db),
    config: monitor.config,
    log,
    processMetrics: monitor.metrics.registry,
  });
}

/**
 * The dashboard's certificate and key, followed on disk (a renewed certificate needs no
 * restart); a file that does not load stops start-up with a message naming the config key.
 */
function dashboardIdentity(files: { certFile: string; keyFile: string }, log: Logger) {
  const follow = new TlsIdentityFiles(files.certFile, files.keyFile, log);
  try {
    return { ...follow.current(), follow };
  } catch (cause) {
    throw new Error(`dashboard.tls: ${(cause as Error).message}`, { cause });
  }
}
