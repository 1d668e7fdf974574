import { renameSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import type { Registry } from "prom-client";
import { SMTPServer } from "smtp-server";
import { STAT_INTERVAL_MS } from "../../core/basics/file-backed-value.ts";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import {
  formatProbeKeyRing,
  newProbeKey,
  type ProbeKey,
  type ProbeKeyRing,
} from "../../core/wire/probe-key.ts";
import { SqliteStatusStore } from "../../local/adapters/sqlite-status-store.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { RecordingLogger } from "./recording-logger.ts";
import { probeIdOf } from "./shell-mail.ts";
import {
  caseDirectory,
  ManualClock,
  type PostureMetric,
  type SentProbe,
  type ShellOptions,
  type ShellRuntime,
  sharedConfig,
  startEndpointServers,
} from "./shell-runtimes.ts";
import { newWebhookSecret, WebhookReceiver } from "./webhook-receiver.ts";

/** A trigger on the outbox table: the queue refuses for real, with no change to the monitor. */
const REFUSE_TRIGGER = "shell_runtime_refuse_queue";

/**
 * Local mode: LocalMonitor on its SQLite file and spool, probes sent through a relay that is an
 * in-process SMTP server, webhooks delivered to an in-process receiver. Inbound mail is delivered
 * over SMTP to the monitor's own listener, which spools it (stamped with the monitor's clock)
 * before its 250; the monitor then drains the spool.
 */
export async function localRuntime(options: ShellOptions = {}): Promise<ShellRuntime> {
  const dir = caseDirectory("local");
  const clock = new ManualClock();
  const probeKey: ProbeKey = { id: "k1", key: newProbeKey() };
  let ring: ProbeKeyRing = [probeKey];
  const ownTargetRing: ProbeKeyRing | undefined = options.ownKeyTarget
    ? [{ id: "rt2-k1", key: newProbeKey() }]
    : undefined;
  const closers: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const servers = await startEndpointServers(dir);
    closers.push(servers.close);
    const relay = await startRelay(options.onProbeSent);
    closers.push(relay.close);
    const receiver = await WebhookReceiver.start();
    closers.push(() => receiver.close());

    const keyFile = join(dir, "probe.key");
    writeFileSync(keyFile, formatProbeKeyRing(ring), { mode: 0o600 });
    const ownKeyFile = join(dir, "rt2.key");
    if (ownTargetRing) writeFileSync(ownKeyFile, formatProbeKeyRing(ownTargetRing), { mode: 0o600 });
    writeFileSync(join(dir, "hook.secret"), `${newWebhookSecret()}\n`, { mode: 0o600 });
    const mailbox = options.fetchMailbox;
    if (mailbox !== undefined)
      writeFileSync(join(dir, "mailbox.password"), mailbox.password, { mode: 0o600 });
    const shared = sharedConfig(
      servers,
      { url: receiver.url, secretFile: join(dir, "hook.secret") },
      {
        ...(mailbox && { fetch: { url: mailbox.url, passwordFile: join(dir, "mailbox.password") } }),
        ...(ownTargetRing && { ownKeyFile }),
        ...(options.postureResolver && { postureResolver: options.postureResolver }),
      },
    );
    const config = parseConfigText(
      JSON.stringify({
        ...shared,
        dataDir: join(dir, "data"),
        probeKeyFile: keyFile,
        inbound: { ...shared.inbound, listen: { port: 0 } },
        outbound: { ...shared.outbound, relay: { host: "127.0.0.1", port: relay.port, tls: "none" } },
        dashboard: { enabled: false },
      }),
      "shell-runtime-local",
    );
    const monitor = await LocalMonitor.open(config, new RecordingLogger(), clock);
    closers.push(() => monitor.stop());
    const { listenPort } = await monitor.start({ schedule: false });
    const inbound = createTransport({ host: "127.0.0.1", port: listenPort, secure: false, ignoreTLS: true });
    closers.push(async () => inbound.close());
    const statuses = new SqliteStatusStore(monitor.store.db);

    return {
      name: "local",
      clock,
      probeKey,
      probeKeyRing: () => ring,
      ownTargetRing,
      async rotateProbeKeys(edit) {
        ring = edit(ring);
        // Replaced as `email-scout key add` replaces it: a new file moved into place.
        writeFileSync(`${keyFile}.new`, formatProbeKeyRing(ring), { mode: 0o600 });
        renameSync(`${keyFile}.new`, keyFile);
        clock.advance(STAT_INTERVAL_MS);
      },
      endpoints: { answering: servers.answering, refusing: servers.refusing },
      stores: { probes: monitor.store, checks: monitor.store, statuses },
      runCycle: () => monitor.runCycle(),
      sentProbes: () => [...relay.accepted],
      async deliverInbound(raw, envelope) {
        const arrivedAtMs = clock.now();
        await inbound.sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw });
        // The listener started a drain when it spooled the message; this waits for it to end.
        await monitor.drainSpool();
        return { arrivedAtMs };
      },
      probes: (targetId) => monitor.store.recent(targetId, 0, 100),
      statusOf: (targetId, subject) => statuses.getStatus(targetId, subject),
      postureMetrics: () => postureCounts(monitor.metrics.registry),
      queuedEvents: () =>
        monitor.outbox
          .list()
          .reverse()
          .map((row) => JSON.parse(row.eventJson) as ScoutEvent),
      async refuseQueue(on) {
        monitor.store.db.exec(
          on
            ? `CREATE TRIGGER IF NOT EXISTS ${REFUSE_TRIGGER} BEFORE INSERT ON outbox
               BEGIN SELECT RAISE(ABORT, 'queue refused'); END`
            : `DROP TRIGGER IF EXISTS ${REFUSE_TRIGGER}`,
        );
      },
      refuseSends(on) {
        relay.refusing = on;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

interface Relay {
  readonly port: number;
  readonly accepted: SentProbe[];
  refusing: boolean;
  close(): Promise<void>;
}

/** The outbound relay: a real SMTP server that keeps what it accepts, or refuses every recipient. */
async function startRelay(onProbeSent?: (probe: SentProbe) => void): Promise<Relay> {
  const relay: Omit<Relay, "port"> = {
    accepted: [],
    refusing: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (!relay.refusing) return callback();
      // RFC 5321 §4.2.3: 554, transaction failed; what a relay that will not take the mail says.
      callback(Object.assign(new Error("5.7.1 Relay access denied"), { responseCode: 554 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        const to = session.envelope.rcptTo.map((recipient) => recipient.address);
        const probe = { envelope: { from, to }, raw: Buffer.concat(chunks) };
        relay.accepted.push(probe);
        onProbeSent?.(probe);
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(relay, { port: (server.server.address() as AddressInfo).port });
}

/** Local mode after one cycle: the probe it sent, and the clock moved on by `advanceMs`. */
export async function localRuntimeWithOneProbe(
  advanceMs: number,
): Promise<{ shell: ShellRuntime; probe: SentProbe; probeId: string }> {
  const shell = await localRuntime();
  await shell.runCycle();
  const probe = shell.sentProbes().at(-1);
  if (probe === undefined) {
    await shell.close();
    throw new Error("the cycle sent no probe");
  }
  shell.clock.advance(advanceMs);
  return { shell, probe, probeId: probeIdOf(probe) };
}

/** email_scout_process_posture_checks_total, one entry per check counted (by its labels). */
async function postureCounts(registry: Registry): Promise<PostureMetric[]> {
  const metric = registry.getSingleMetric("email_scout_process_posture_checks_total");
  if (metric === undefined) return [];
  const { values } = await metric.get();
  return values.flatMap(({ labels, value }) =>
    Array.from({ length: value }, () => ({
      target: String(labels.target),
      check: String(labels.check),
      status: String(labels.status),
    })),
  );
}
