import { parseArgs } from "node:util";
import { ConfigError } from "../../core/config/config-error.ts";
import { loadConfigFile } from "../../core/config/load-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { consoleLogger } from "../serve/console-logger.ts";
import type { CommandIo } from "./io.ts";
import { closeSession, openSession, type ServeSession } from "./serve-session.ts";

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
and /metrics (Prometheus) on dashboard.host:dashboard.port (default http://127.0.0.1:8025/),
and /probe (one check per scrape) when dashboard.prometheusProbe names its modules.
Logs go to stderr, one line per event. SIGHUP reloads the configuration (an invalid one is
refused and the running one stays). Stop with Ctrl-C or SIGTERM: it finishes the cycle under
way, or stops without it after 45 s.
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
  const configFile = values.config;
  if (!configFile) {
    io.stderr("email-scout serve: --config FILE is required (try config/demo.yaml)");
    return 2;
  }
  const log = consoleLogger((line) => io.stderr(line));
  let config: ScoutConfig;
  try {
    config = loadConfigFile(configFile, "local");
  } catch (error) {
    io.stderr(
      error instanceof ConfigError ? error.message : `email-scout serve: ${(error as Error).message}`,
    );
    return 2;
  }
  const opened = await openSession(config, log, { once: values.once === true });
  if ("problem" in opened) {
    io.stderr(`email-scout serve: ${opened.problem}`);
    return 2;
  }
  let session = opened;
  if (values.once) {
    await session.monitor.runCycle();
    await session.monitor.waitForOpenProbes();
    await session.monitor.stop();
    return 0;
  }
  log.info("email-scout serve running", {
    config: configFile,
    intervalSeconds: config.schedule.intervalSeconds,
  });
  const signals = listenForSignals(io.signals ?? process);
  try {
    for (;;) {
      const signal = await signals.next();
      if (signal === "SIGHUP") {
        const reloaded = await reload(session, configFile, log);
        if (reloaded === undefined) return 2;
        session = reloaded;
        continue;
      }
      log.info("stopping", { signal, graceSeconds: STOP_GRACE_MS / 1000 });
      if (!(await closeSession(session, STOP_GRACE_MS))) {
        log.warn("the cycle under way did not finish within the grace period; stopping without it", {
          graceSeconds: STOP_GRACE_MS / 1000,
          note: "returns and events are on disk; checks in flight are not recorded",
        });
        io.exitSoon?.();
      }
      return 0;
    }
  } finally {
    signals.close();
  }
}

/**
 * SIGTERM and SIGINT stop serve within this long (the systemd unit allows 60 s): the cycle
 * under way finishes if it can; a check is bounded by its own deadlines (30 s by default).
 */
export const STOP_GRACE_MS = 45_000;

type ServeSignal = "SIGHUP" | "SIGTERM" | "SIGINT";

/**
 * Listens for serve's signals from start to end, queueing them: a SIGHUP or SIGTERM that
 * arrives while a reload is under way waits its turn instead of being missed (or, with no
 * listener at that moment, ending the process by the signal's default action).
 */
function listenForSignals(signals: NodeJS.EventEmitter) {
  const names: ServeSignal[] = ["SIGHUP", "SIGTERM", "SIGINT"];
  const queued: ServeSignal[] = [];
  let wake: (() => void) | undefined;
  const handlers = names.map((name) => {
    const handler = () => {
      queued.push(name);
      wake?.();
    };
    signals.on(name, handler);
    return handler;
  });
  return {
    async next(): Promise<ServeSignal> {
      while (queued.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queued.shift() as ServeSignal;
    },
    close(): void {
      for (const [index, name] of names.entries()) signals.off(name, handlers[index] as () => void);
    },
  };
}

/**
 * SIGHUP: the configuration file is read and validated again. An invalid one is refused and
 * the running configuration stays; a valid one replaces it: the running session finishes its
 * cycle and closes, and a new one opens (listeners, dashboard and schedule as configured now).
 * If the new one cannot open (a port taken meanwhile), the old configuration is opened again.
 * Returns undefined only when neither opens.
 */
async function reload(
  session: ServeSession,
  configFile: string,
  log: Logger,
): Promise<ServeSession | undefined> {
  let next: ScoutConfig;
  try {
    next = loadConfigFile(configFile, "local");
  } catch (error) {
    log.error("configuration reload refused; the running configuration stays", {
      config: configFile,
      error: (error as Error).message,
    });
    return session;
  }
  log.info("reloading the configuration", { config: configFile });
  await closeSession(session, STOP_GRACE_MS);
  const opened = await openSession(next, log, { once: false });
  if (!("problem" in opened)) {
    log.info("configuration reloaded", {
      config: configFile,
      intervalSeconds: next.schedule.intervalSeconds,
      targets: next.targets.length,
    });
    return opened;
  }
  log.error("the reloaded configuration cannot run; going back to the previous one", {
    config: configFile,
    error: opened.problem,
  });
  const previous = await openSession(session.config, log, { once: false });
  if (!("problem" in previous)) return previous;
  log.error("the previous configuration cannot run either; stopping", { error: previous.problem });
  return undefined;
}
