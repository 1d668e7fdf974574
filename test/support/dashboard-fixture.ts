import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckResult } from "../../core/checks/result.ts";
import { configSchema, type ScoutConfig } from "../../core/config/schema.ts";
import type { Status } from "../../core/model/status.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { TrackedStatus } from "../../core/ports/status-store.ts";
import type { ReceiverVerdicts } from "../../core/verdicts/receiver-verdicts.ts";
import { SqliteStatusStore } from "../../local/adapters/sqlite-status-store.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { DATABASE_FILE } from "../../local/serve/monitor.ts";

/**
 * A monitor store with recorded results, for the dashboard, /metrics and the terminal board.
 * Every figure below is fixed, so tests can assert exact values:
 *  - mx1 (customer acme): smtp OK (tracked, 80 days left), imaps WARNING cert-expiring
 *    (tracked, 12 days left), pop3s CRITICAL refused (not tracked: from the latest result);
 *    20 returned probes in the last hour, two minutes apart, the newest 90 s ago, with RTTs 2.0/2.5/3.0/3.5/4.0 s (p50 3.0 s, p95 4.0 s),
 *    one lost, one late (420 s), one bounced (5.1.1), one send-failed. Round trip tracked OK.
 *  - mx2: a submission endpoint never checked, a probe never sent (both UNKNOWN).
 *  - rejected returns: token-bad-signature 2, unknown-probe 1.
 */
export const FIXTURE_NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
export const NEWEST_PROBE = "fixtureProbe-ret-00";
export const BOUNCED_PROBE = "fixtureProbe-bounce1";
export const LOST_PROBE = "fixtureProbe-lost01";
export const LATE_PROBE = "fixtureProbe-late01";
export const SEND_FAILED_PROBE = "fixtureProbe-fail01";
export const FIXTURE_RTTS_MS = [2000, 2500, 3000, 3500, 4000];
const MIN = 60_000;

export interface DashboardFixture {
  readonly dir: string;
  /** The same configuration as a file, for the CLI. */
  readonly configFile: string;
  readonly config: ScoutConfig;
  readonly store: SqliteStore;
  readonly statuses: SqliteStatusStore;
  readonly clock: Clock;
  close(): void;
}

/** The configuration as written in a file (before defaults). */
export function fixtureConfigInput(dataDir: string) {
  return {
    dataDir,
    probeKeyFile: join(dataDir, "probe.key"),
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [
      {
        id: "mx1",
        customer: "acme",
        endpoints: [
          { url: "smtp://mx1.example.com" },
          { url: "imaps://mx1.example.com" },
          { url: "pop3s://mx1.example.com:995" },
        ],
        probe: { to: "probe@mx1.example.com" },
      },
      {
        id: "mx2",
        endpoints: [{ url: "submission://mx2.example.com" }],
        probe: { to: "probe@mx2.example.com" },
      },
    ],
  };
}

/** The monitor's own StatusStore over the fixture database's `statuses` table. */
export function tableStatusStore(store: SqliteStore): SqliteStatusStore {
  return new SqliteStatusStore(store.db);
}

function checkResult(
  endpoint: string,
  protocol: CheckResult["protocol"],
  status: Status,
  reason: CheckResult["reason"],
  atMs: number,
  responseMs: number,
  daysLeft?: number,
): CheckResult {
  const host = new URL(endpoint).hostname;
  return {
    endpoint,
    kind: endpoint.slice(0, endpoint.indexOf(":")) as CheckResult["kind"],
    protocol,
    host,
    port: 0,
    status,
    reason,
    message: reason,
    problems: [],
    startedAt: new Date(atMs).toISOString(),
    responseMs,
    totalMs: responseMs + 10,
    timings: { resolve: 2, connect: 5, greeting: responseMs - 5 },
    login: "not-asked",
    thresholds: { certWarningDays: 21, certCriticalDays: 7, verifyTls: true },
    ...(daysLeft === undefined
      ? {}
      : {
          tls: {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_256_GCM_SHA384",
            checkedName: host,
            hostnameMatch: true,
            chainTrusted: true,
            certificate: {
              subject: `CN=${host}`,
              subjectAltNames: [host],
              issuer: "CN=Fixture CA",
              serialNumber: "01",
              fingerprintSha256: "AA",
              notBefore: new Date(atMs - 30 * 86_400_000).toISOString(),
              notAfter: new Date(atMs + daysLeft * 86_400_000 + 3_600_000).toISOString(),
              daysLeft,
            },
          },
        }),
  };
}

/** Writes the fixture into a fresh directory (the monitor's dataDir layout). */
/** What mx1's receiver said of the newest returned probe. */
export const FIXTURE_VERDICTS: ReceiverVerdicts = {
  authservId: "mx1.example.com",
  spf: { result: "pass", domain: "scout-returns.example.com" },
  dkim: { result: "pass", domain: "scout.example.net" },
  dmarc: { result: "pass", domain: "scout.example.net" },
  spam: [{ filter: "spamassassin", verdict: "ham", score: -0.1, threshold: 5 }],
  ignoredAuthResults: 0,
  problems: [],
};

export async function makeDashboardFixture(): Promise<DashboardFixture> {
  const dir = mkdtempSync(join(tmpdir(), "scout-dashboard-"));
  const input = fixtureConfigInput(join(dir, "data"));
  const config = configSchema.parse(input);
  const configFile = join(dir, "scout.json");
  writeFileSync(configFile, JSON.stringify(input, null, 2));
  const store = await SqliteStore.open(join(config.dataDir, DATABASE_FILE));
  const statuses = tableStatusStore(store);
  const now = FIXTURE_NOW;

  // Thirty check cycles, two minutes apart; the newest 30 s ago.
  for (let cycle = 29; cycle >= 0; cycle--) {
    const at = now - 30_000 - cycle * 2 * MIN;
    await store.saveCheckResult(
      "mx1",
      checkResult("smtp://mx1.example.com", "smtp", "OK", "ok", at, 40 + (cycle % 3) * 10, 80),
    );
    await store.saveCheckResult(
      "mx1",
      checkResult("imaps://mx1.example.com", "imap", "WARNING", "cert-expiring", at, 60, 12),
    );
    await store.saveCheckResult(
      "mx1",
      checkResult("pop3s://mx1.example.com:995", "pop3", "CRITICAL", "refused", at, 5),
    );
  }

  const sent = async (probeId: string, sentAtMs: number) => {
    await store.recordSent({
      probeId,
      targetId: "mx1",
      toAddress: "probe@mx1.example.com",
      messageId: `<${probeId}@scout-returns.example.com>`,
      sentAtMs,
      deadlineMs: sentAtMs + 300_000,
    });
  };
  for (let index = 0; index < 20; index++) {
    const probeId = `fixtureProbe-ret-${String(index).padStart(2, "0")}`;
    // One probe per two-minute bucket of the hour chart, 30 s into it.
    const sentAtMs = now - (index + 1) * 120_000 + 30_000;
    const rttMs = FIXTURE_RTTS_MS[index % FIXTURE_RTTS_MS.length] as number;
    await sent(probeId, sentAtMs);
    const detail =
      index === 0
        ? {
            remoteArrivedAtMs: sentAtMs + 2500,
            remoteClockOffsetMs: 1500,
            hops: [
              { from: "scout.example.net", by: "relay.example.net", with: "ESMTPS", atMs: sentAtMs + 300 },
              { from: "relay.example.net", by: "mx1.example.com", with: "ESMTPS", atMs: sentAtMs + 900 },
            ],
            verdicts: FIXTURE_VERDICTS,
          }
        : {};
    await store.transition(
      probeId,
      ["sent"],
      "returned",
      { returnedAtMs: sentAtMs + rttMs, rttMs, ...detail },
      sentAtMs + rttMs,
    );
  }
  await sent(LOST_PROBE, now - 44 * MIN);
  await store.transition(LOST_PROBE, ["sent"], "lost", {}, now - 39 * MIN);
  await sent(LATE_PROBE, now - 33 * MIN);
  await store.transition(LATE_PROBE, ["sent"], "lost", {}, now - 28 * MIN);
  await store.transition(
    LATE_PROBE,
    ["lost"],
    "late",
    { returnedAtMs: now - 33 * MIN + 420_000, rttMs: 420_000 },
    now - 33 * MIN + 420_000,
  );
  await sent(BOUNCED_PROBE, now - 22 * MIN);
  await store.transition(
    BOUNCED_PROBE,
    ["sent"],
    "bounced",
    {
      bounce: {
        status: "5.1.1",
        action: "failed",
        remoteMta: "dns; mx1.example.com",
        diagnostic: "smtp; 550 5.1.1 <probe@mx1.example.com>: Recipient address rejected",
      },
    },
    now - 22 * MIN + 20_000,
  );
  await store.recordSendFailed(
    {
      probeId: SEND_FAILED_PROBE,
      targetId: "mx1",
      toAddress: "probe@mx1.example.com",
      messageId: `<${SEND_FAILED_PROBE}@scout-returns.example.com>`,
      sentAtMs: now - 11 * MIN,
      deadlineMs: now - 11 * MIN + 300_000,
    },
    "connect ECONNREFUSED 192.0.2.25:25",
    now - 11 * MIN,
  );

  await store.countRejection("token-bad-signature", "forged", now - 60 * MIN);
  await store.countRejection("token-bad-signature", "forged", now - 50 * MIN);
  await store.countRejection("unknown-probe", "old", now - 40 * MIN);

  const tracked = (subject: string, status: Status, reason: string, sinceMs: number): TrackedStatus => ({
    targetId: "mx1",
    subject,
    status,
    reason,
    sinceMs,
    pendingCount: 0,
    updatedAtMs: now - 30_000,
  });
  await statuses.putStatus(tracked("smtp://mx1.example.com", "OK", "ok", now - 3 * 86_400_000));
  await statuses.putStatus(
    tracked("imaps://mx1.example.com", "WARNING", "cert-expiring", now - 2 * 3_600_000),
  );
  await statuses.putStatus(tracked("roundtrip", "OK", "ok", now - 86_400_000));

  return {
    dir,
    configFile,
    config,
    store,
    statuses,
    clock: { now: () => now },
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
