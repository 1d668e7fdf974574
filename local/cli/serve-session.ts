import type { ScoutConfig } from "../../core/config/schema.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { SqliteStatusStore } from "../adapters/sqlite-status-store.ts";
import { TlsIdentityFiles } from "../adapters/tls-identity-files.ts";
import { probeSettingsFrom } from "../dashboard/probe-modules.ts";
import { type Dashboard, startDashboard } from "../dashboard/start-dashboard.ts";
import { LocalMonitor } from "../serve/monitor.ts";
import { readPrivateFile } from "../serve/private-file.ts";
import { listenProblem, type PlannedListener, preflightListeners } from "./listen-preflight.ts";
import { readPasswordFile } from "./read-password.ts";

/** What `serve` runs for one configuration: the monitor and, unless disabled, the dashboard. */
export interface ServeSession {
  readonly config: ScoutConfig;
  readonly monitor: LocalMonitor;
  readonly dashboard: Dashboard | undefined;
}

/**
 * Opens a session for `config`, or says why it cannot (a busy port, an unreadable file), with
 * nothing left open: the listeners are tried before the database is created.
 */
export async function openSession(
  config: ScoutConfig,
  log: Logger,
  options: { once: boolean },
): Promise<ServeSession | { problem: string }> {
  const listeners = plannedListeners(config, options.once);
  const busy = await preflightListeners(listeners);
  if (busy !== undefined) return { problem: busy };
  let monitor: LocalMonitor;
  try {
    monitor = await LocalMonitor.open(config, log);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  try {
    await monitor.start(options.once ? { schedule: false } : undefined);
  } catch (error) {
    await monitor.stop().catch(() => undefined);
    return { problem: startProblem(listeners[0] as PlannedListener, error) };
  }
  if (options.once) return { config, monitor, dashboard: undefined };
  try {
    return { config, monitor, dashboard: await openDashboard(monitor, log) };
  } catch (error) {
    await monitor.stop();
    const board = listeners[1];
    return { problem: board ? startProblem(board, error) : `dashboard: ${(error as Error).message}` };
  }
}

/**
 * Stops a session: the dashboard first (it reads the store), then the monitor, which finishes
 * the cycle under way. Resolves false when that takes longer than `graceMs`: the caller goes
 * on without it (spool and outbox are on disk; checks in flight are simply not recorded, and
 * probes already sent are swept or correlated by the next run).
 */
export async function closeSession(session: ServeSession, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const closing = (async () => {
    await session.dashboard?.close();
    await session.monitor.stop();
    return true;
  })();
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  try {
    return await Promise.race([closing, late]);
  } finally {
    clearTimeout(timer);
  }
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
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL"
    ? listenProblem(listener, error)
    : (error as Error).message;
}

/** The operator's page, /api, /metrics and /probe, when the config enables it (the default, on 127.0.0.1:8025). */
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
    ...(board.prometheusProbe
      ? {
          probe: probeSettingsFrom(board.prometheusProbe, {
            heloName: monitor.config.outbound.heloName,
            readPassword: readPasswordFile,
          }),
        }
      : {}),
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
