import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { installReturn } from "../../local/return-install/return-install.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { WebhookReceiver } from "../../test/support/webhook-receiver.ts";
import { DEMO, mailHostIsUp, ROOT } from "./mail-host.ts";
import { Recorder } from "./recorder.ts";

/** The inbound domain the demo host routes to 127.0.0.1:2527 (scripts/demo-mailhost.sh). */
export const FAULTS_DOMAIN = "scout-faults.test";
export const FAULTS_PORT = 2527;
export const RETURN_TO = `returns@${FAULTS_DOMAIN}`;
/** The demo host's mailbox that belongs to this harness: its ~/.forward is ours to break. */
export const PROBE_USER = "probe-faults";
/** Where the monitor sends its probes: PROBE_USER's mailbox on the demo host. */
export const PROBE_TO = `${PROBE_USER}@${DEMO.domain}`;
export const TARGET_ID = "demo-host";

/** The endpoints watched, as written in the configuration: they name the status subjects. */
export const ENDPOINTS = {
  smtp: "smtp://127.0.0.1",
  submission: "submission://127.0.0.1",
  smtps: "smtps://127.0.0.1",
  imap: "imap://127.0.0.1",
  imaps: "imaps://127.0.0.1",
  pop3: "pop3://127.0.0.1",
  pop3s: "pop3s://127.0.0.1",
} as const;
export const SMTP_SUBJECTS = [ENDPOINTS.smtp, ENDPOINTS.submission, ENDPOINTS.smtps];
export const DOVECOT_SUBJECTS = [ENDPOINTS.imap, ENDPOINTS.imaps, ENDPOINTS.pop3, ENDPOINTS.pop3s];
export const ALL_ENDPOINT_SUBJECTS = [...SMTP_SUBJECTS, ...DOVECOT_SUBJECTS];

export interface HarnessOptions {
  /** Round-trip deadline: a probe not back by then is lost. */
  readonly deadlineSeconds?: number;
  readonly confirmAfter?: number;
  /** Every log line of the monitor (they are kept in memory as well). */
  readonly onLog?: (line: string) => void;
}

export interface CycleResult {
  readonly number: number;
  readonly startedMs: number;
  readonly endedMs: number;
}

/**
 * A LocalMonitor watching the whole demo host (7 endpoints and a round trip through
 * probe-faults@scout.test), in-process with its schedule off, its inbound listener on 2527
 * (scout-faults.test's route in the demo host) and events going to a local WebhookReceiver (the one the tests use). One cycle = runCycle(), then
 * wait until that cycle's probe has an outcome (returned, bounced, send-failed, or lost at
 * its deadline).
 */
export class Harness {
  readonly recorder = new Recorder();

  private constructor(
    /** Every line the monitor logged. */
    readonly logLines: string[],
    readonly monitor: LocalMonitor,
    readonly sink: WebhookReceiver,
    readonly dir: string,
    readonly keyFile: string,
    readonly config: ScoutConfig,
  ) {}

  static async open(options: HarnessOptions = {}): Promise<Harness> {
    if (!mailHostIsUp()) {
      throw new Error(
        "the demo mail host is not running; start it with: sudo bash scripts/demo-mailhost.sh up",
      );
    }
    execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "ignore" });
    const dir = mkdtempSync(join(tmpdir(), "scout-faults-"));
    const keyFile = join(dir, "probe.key");
    writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
    installProbeReturn(keyFile);
    const sink = await WebhookReceiver.start();
    const secretFile = join(dir, "webhook.secret");
    writeFileSync(secretFile, `whsec_${Buffer.from(newProbeKey()).toString("base64")}`, { mode: 0o600 });
    const config = harnessConfig({
      dir,
      keyFile,
      webhookUrl: sink.url,
      secretFile,
      deadlineSeconds: options.deadlineSeconds ?? 12,
      confirmAfter: options.confirmAfter ?? 2,
    });
    const lines: string[] = [];
    const monitor = await LocalMonitor.open(
      config,
      consoleLogger((line) => {
        lines.push(line);
        options.onLog?.(line);
      }),
    );
    try {
      await monitor.start({ schedule: false });
    } catch (error) {
      await monitor.stop();
      await sink.close();
      const busy = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      throw busy
        ? new Error(`port ${FAULTS_PORT} is busy: is another soak or fault run going on?`, { cause: error })
        : error;
    }
    const harness = new Harness(lines, monitor, sink, dir, keyFile, config);
    monitor.events.on("event", (event) => harness.recorder.record(event));
    return harness;
  }

  get confirmAfter(): number {
    return this.config.targets[0]?.confirmAfter ?? 2;
  }

  /** One cycle: checks and a probe, then wait for the probe's outcome. */
  async cycle(): Promise<CycleResult> {
    const number = ++this.recorder.cycle;
    const startedMs = Date.now();
    await this.monitor.runCycle();
    await this.monitor.waitForOpenProbes();
    return { number, startedMs, endedMs: Date.now() };
  }

  /** Puts the email_return pipe back into probe-faults' ~/.forward, with the harness's key. */
  reinstallReturn(): void {
    installProbeReturn(this.keyFile);
  }

  async close(): Promise<void> {
    await this.monitor.stop();
    await this.sink.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function installProbeReturn(keyFile: string): void {
  installReturn({
    user: PROBE_USER,
    returnTo: RETURN_TO,
    keyFile,
    script: join(ROOT, "dist/email_return.cjs"),
    nodePath: process.execPath,
    log: true,
  });
}

function harnessConfig(input: {
  dir: string;
  keyFile: string;
  webhookUrl: string;
  secretFile: string;
  deadlineSeconds: number;
  confirmAfter: number;
}): ScoutConfig {
  const ca = DEMO.caFile;
  const login = { user: DEMO.user, passwordFile: DEMO.passwordFile };
  return parseConfigText(
    JSON.stringify({
      dataDir: join(input.dir, "data"),
      probeKeyFile: input.keyFile,
      inbound: {
        domain: FAULTS_DOMAIN,
        returnAddress: RETURN_TO,
        listen: { host: "127.0.0.1", port: FAULTS_PORT },
      },
      outbound: {
        from: `monitor@${FAULTS_DOMAIN}`,
        relay: { host: DEMO.host, port: 25, tls: "require-starttls", caFile: ca },
      },
      roundTrip: {
        deadlineSeconds: input.deadlineSeconds,
        warningSeconds: Math.min(10, input.deadlineSeconds),
        criticalSeconds: input.deadlineSeconds,
      },
      webhooks: { endpoints: [{ id: "faults", url: input.webhookUrl, secretFile: input.secretFile }] },
      dashboard: { enabled: false },
      targets: [
        {
          id: TARGET_ID,
          confirmAfter: input.confirmAfter,
          // The thresholds config/demo.yaml uses: what an operator of this host would set.
          thresholds: { warningSeconds: 2, criticalSeconds: 5, certWarningDays: 21, certCriticalDays: 7 },
          endpoints: [
            { url: ENDPOINTS.smtp, caFile: ca },
            { url: ENDPOINTS.submission, caFile: ca },
            { url: ENDPOINTS.smtps, caFile: ca },
            { url: ENDPOINTS.imap, caFile: ca, login },
            { url: ENDPOINTS.imaps, caFile: ca },
            { url: ENDPOINTS.pop3, caFile: ca },
            { url: ENDPOINTS.pop3s, caFile: ca },
          ],
          probe: { to: PROBE_TO },
        },
      ],
    }),
    "fault harness",
  );
}
