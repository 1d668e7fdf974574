import { EventEmitter } from "node:events";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { probeFromAddress } from "../../core/config/config-rules.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { type PlannedCheck, planChecks } from "../../core/cycle/check-plan.ts";
import type { CyclePorts } from "../../core/cycle/cycle-ports.ts";
import { runCycle, runSweep } from "../../core/cycle/run-cycle.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import { createMailboxOpener } from "../../core/mailbox/mailbox-opener.ts";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { CorrelationOutcome } from "../../core/roundtrip/correlate.ts";
import { retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { readDkimSigning } from "../adapters/dkim-key.ts";
import { ProbeKeyFiles } from "../adapters/probe-key-files.ts";
import { PromMetrics } from "../adapters/prom-metrics.ts";
import { SmtpSender } from "../adapters/smtp-sender.ts";
import { Spool } from "../adapters/spool.ts";
import { SqliteOutbox } from "../adapters/sqlite-outbox.ts";
import { SqliteStatusStore } from "../adapters/sqlite-status-store.ts";
import { SqliteStore } from "../adapters/sqlite-store.ts";
import { readPasswordFile } from "../cli/read-password.ts";
import { InboundPort } from "./inbound-port.ts";
import { progressReporter } from "./progress.ts";
import { SpoolDrainer } from "./spool-drainer.ts";
import { WebhookDispatcher } from "./webhook-dispatcher.ts";
import { resolveWebhookEndpoints } from "./webhook-endpoints.ts";

export const DATABASE_FILE = "scout.db";
export const SPOOL_DIR = "spool";
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Local mode's shell: the core's cycle and return intake (the same as the Lambdas run), wired
 * to SQLite, a spool directory, an SMTP listener, the outbox and an in-process timer. Cycles
 * never overlap.
 */
export class LocalMonitor {
  /**
   * "outcome" (CorrelationOutcome) for every inbound message processed; "event" (ScoutEvent)
   * for every event once it is in the outbox.
   */
  readonly events = new EventEmitter<{ outcome: [CorrelationOutcome]; event: [ScoutEvent] }>();
  /** This process's metrics (prom-client), served beside the store's on /metrics. */
  readonly metrics = new PromMetrics();
  private readonly cyclePorts: CyclePorts;
  private timer: NodeJS.Timeout | undefined;
  private cycleRunning: Promise<void> | undefined;
  private readonly drainer: SpoolDrainer;
  private stopped = false;
  private readonly inbound: InboundPort;
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly config: ScoutConfig,
    readonly store: SqliteStore,
    private readonly spool: Spool,
    private readonly sender: SmtpSender,
    keys: ProbeKeyFiles,
    private readonly checks: PlannedCheck[],
    readonly outbox: SqliteOutbox,
    private readonly dispatcher: WebhookDispatcher,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.cyclePorts = {
      config,
      probeKeys: async () => keys.rings(),
      probes: store,
      statuses: new SqliteStatusStore(store.db),
      events: outbox,
      metrics: this.metrics,
      clock,
      log,
      onEvent: (event) => this.events.emit("event", event),
      // Planned once at start-up, so a missing password file stops it; local mode runs one
      // shard, every target, and this keeps to the targets asked for all the same.
      planChecks: async (targets) => {
        const ids = new Set(targets.map((target) => target.id));
        return checks.filter((check) => ids.has(check.targetId));
      },
      checks: store,
      sender,
      // Read at each login, so a replaced password or client secret file is used from the next cycle.
      mailboxes: createMailboxOpener({ readSecret: async (file) => readPasswordFile(file), clock, log }),
      probeFrom: probeFromAddress(config),
    };
    this.inbound = new InboundPort(config.inbound, spool, () => void this.drainSpool(), log, clock, store);
    this.drainer = new SpoolDrainer({
      spool,
      ports: this.cyclePorts,
      onOutcome: (outcome) => this.events.emit("outcome", outcome),
      onRejected: (remoteAddress) => this.inbound.rejections.note(remoteAddress),
    });
  }

  /** Opens everything the config names; any problem stops start-up with a message that names it. */
  static async open(config: ScoutConfig, log: Logger, clock: Clock = systemClock): Promise<LocalMonitor> {
    let keys: ProbeKeyFiles;
    try {
      keys = ProbeKeyFiles.open(config, log, clock);
    } catch (error) {
      const path = (error as { path?: unknown }).path;
      const hint =
        typeof path !== "string" || existsSync(path) ? "" : `; make one with: email-scout key new ${path}`;
      throw new Error(`${(error as Error).message}${hint}`, { cause: error });
    }
    const checks = planChecks(config, readPasswordFile);
    // Mailbox secrets too: a missing or open file stops start-up with its name.
    for (const file of fetchSecretFiles(config)) readPasswordFile(file);
    // Webhook secrets are read now, so a missing or unreadable one stops start-up with its name.
    const endpoints = resolveWebhookEndpoints(config.webhooks);
    const relay = config.outbound.relay;
    // Like every secret, before anything is opened: a refused file leaves nothing to close.
    const relayPassword =
      relay?.user && relay.passwordFile ? readPasswordFile(relay.passwordFile) : undefined;
    const dkim = config.outbound.dkim && readDkimSigning(config.outbound.dkim);
    const store = await SqliteStore.open(join(config.dataDir, DATABASE_FILE));
    const spool = await Spool.open(join(config.dataDir, SPOOL_DIR));
    warnIfDataDirShared(config.dataDir, log);
    const sender = new SmtpSender({
      // One kept relay connection: a fresh STARTTLS session per probe would add its set-up
      // (and Postfix's TLS 1.3 ticket stall, ~50 ms) to every measured round trip.
      keepRelayConnection: true,
      ...(relay
        ? {
            relay: { host: relay.host, port: relay.port },
            tls: relay.tls,
            ...(relay.caFile ? { caFile: relay.caFile } : {}),
            ...(relay.user && relayPassword ? { auth: { user: relay.user, password: relayPassword } } : {}),
          }
        : {}),
      ...(config.outbound.heloName ? { name: config.outbound.heloName } : {}),
      ...(dkim ? { dkim } : {}),
    });
    const outbox = new SqliteOutbox(store.db, endpoints, clock);
    const dispatcher = new WebhookDispatcher({
      outbox,
      endpoints,
      policy: retryPolicyFor(config.webhooks.maxAgeSeconds),
      log,
      clock,
    });
    return new LocalMonitor(config, store, spool, sender, keys, checks, outbox, dispatcher, log, clock);
  }

  /** Starts the listener, processes mail left in the spool by an earlier run, and starts the schedule. */
  async start(options: { schedule?: boolean } = {}): Promise<{ listenPort: number }> {
    const port = await this.inbound.open();
    await this.drainSpool();
    // Announces round trips an earlier run stored but never queued, before anything new.
    await runSweep(this.cyclePorts, { announceLeftovers: true });
    // Delivers what an earlier run left undelivered at once, then whatever new comes.
    this.dispatcher.start();
    if (options.schedule !== false) this.scheduleNext(0);
    return { listenPort: port };
  }

  /** Closes the inbound listener while everything else goes on; see InboundPort. */
  pauseInbound(): Promise<void> {
    return this.inbound.pause();
  }

  /** Listens again on the port it had. */
  resumeInbound(): Promise<void> {
    return this.inbound.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inbound.close();
    await this.cycleRunning;
    await this.drainer.idle();
    await this.dispatcher.stop();
    this.sender.close();
    this.store.close();
  }

  private scheduleNext(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.clock.now();
      this.cycleRunning = this.runCycle()
        // Whatever a cycle throws (a store that cannot be read, say) is logged; the schedule goes on.
        .catch((error: unknown) => this.log.error("cycle failed", { error: String(error) }))
        .finally(() => {
          this.cycleRunning = undefined;
          const elapsed = this.clock.now() - started;
          const interval = this.config.schedule.intervalSeconds * 1000;
          if (elapsed > interval)
            this.log.warn("cycle took longer than the interval", {
              elapsedMs: elapsed,
              intervalMs: interval,
            });
          this.scheduleNext(Math.max(0, interval - elapsed));
        });
    }, delayMs);
  }

  /** One cycle (core), then the spool and pruning. Failures are logged per target; none aborts the rest. */
  async runCycle(): Promise<void> {
    const started = this.clock.now();
    const { errors, ...counts } = await runCycle({
      ...this.cyclePorts,
      onCheckResult: progressReporter(this.log, "checks", this.checks.length),
    });
    this.log.info("cycle done", { ...counts, errors: errors.length, ms: this.clock.now() - started });
    await this.drainSpool();
    await this.pruneIfDue();
  }

  /**
   * Keeps the database and spool/rejected/ from growing without bound: at most once an hour,
   * drop what is past retention.
   */
  private async pruneIfDue(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPruneMs < PRUNE_EVERY_MS) return;
    this.lastPruneMs = now;
    try {
      const cutoff = now - this.config.retentionDays * 86_400_000;
      const removed = {
        ...this.store.pruneOlderThan(cutoff),
        deliveredEvents: this.outbox.pruneDelivered(cutoff),
      };
      if (Object.values(removed).some((count) => count > 0))
        this.log.info("pruned old results", { ...removed, retentionDays: this.config.retentionDays });
    } catch (error) {
      this.log.error("cannot prune old results", { error: String(error) });
    }
    const { rejectedRetentionDays, rejectedMaxBytes } = this.config.inbound;
    try {
      const pruned = await this.spool.pruneRejected(
        now - rejectedRetentionDays * 86_400_000,
        rejectedMaxBytes,
      );
      if (pruned.removed > 0)
        this.log.info("pruned rejected mail", { ...pruned, rejectedRetentionDays, rejectedMaxBytes });
    } catch (error) {
      this.log.error("cannot prune rejected mail", { error: String(error) });
    }
  }

  /** Waits until no probe of this run is still "sent": each returned, bounced or was swept lost. */
  async waitForOpenProbes(): Promise<void> {
    const since = this.clock.now() - this.config.roundTrip.deadlineSeconds * 1000 - 60_000;
    for (;;) {
      const open = (
        await Promise.all(this.config.targets.map((target) => this.store.recent(target.id, since, 100)))
      )
        .flat()
        .filter((probe) => probe.state === "sent");
      if (open.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
      await this.drainSpool();
      await runSweep(this.cyclePorts);
    }
  }

  /** Resolves with the first processed inbound outcome that matches, or rejects at the timeout. */
  waitForOutcome(
    matches: (outcome: CorrelationOutcome) => boolean,
    timeoutMs: number,
  ): Promise<CorrelationOutcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off("outcome", listener);
        reject(new Error(`no matching inbound outcome within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (outcome: CorrelationOutcome) => {
        if (!matches(outcome)) return;
        clearTimeout(timer);
        this.events.off("outcome", listener);
        resolve(outcome);
      };
      this.events.on("outcome", listener);
    });
  }

  /** Processes every spooled message; concurrent calls coalesce into one more pass. */
  drainSpool(): Promise<void> {
    return this.drainer.drain();
  }
}

/** The password and OAuth client secret files of fetch-mode targets. */
function fetchSecretFiles(config: ScoutConfig): string[] {
  return config.targets.flatMap((target) => {
    const fetch = target.probe?.fetch;
    return [fetch?.passwordFile, fetch?.oauth?.clientSecretFile].filter((file) => file !== undefined);
  });
}

/**
 * The database and the spool are private (0600, 0700) whatever their folder's mode, so a data
 * directory others may enter is only warned about: the operator may share it on purpose, and
 * changing the mode of a folder that the config names is not the monitor's call.
 */
function warnIfDataDirShared(dataDir: string, log: Logger): void {
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  log.warn("data directory is open to group or others (its database and spool stay private)", {
    dataDir,
    mode: mode.toString(8).padStart(4, "0"),
    fix: `chmod 700 ${dataDir}`,
  });
}
