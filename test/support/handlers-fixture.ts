/*
 * The prober and correlator Lambdas end to end on this machine: DynamoDB is dynalite, S3 is
 * s3rver, SES and Secrets Manager are aws-sdk-client-mock. The probe the prober hands to SES is
 * answered by the real email_return (dist/email_return.cjs, run as a ~/.forward pipe runs it),
 * the reply is stored in s3rver as the SES receipt rule would store it, and s3rver's own
 * notification, encoded the way real S3 encodes keys, drives the correlator.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetSendQuotaCommand, SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import type { Clock } from "../../core/ports/clock.ts";
import { formatProbeKeyRing, newProbeKey, type ProbeKey } from "../../core/wire/probe-key.ts";
import { DynamoCheckStore } from "../../lambdas/aws/dynamo-check-store.ts";
import { documentClient } from "../../lambdas/aws/dynamo-client.ts";
import { DynamoProbeStore } from "../../lambdas/aws/dynamo-probe-store.ts";
import { DynamoStatusStore } from "../../lambdas/aws/dynamo-status-store.ts";
import { createCorrelatorHandler } from "../../lambdas/handlers/correlator.ts";
import { createProberHandler } from "../../lambdas/handlers/prober.ts";
import {
  asRealS3Event,
  createScoutTables,
  type DynamoStandIn,
  REGION,
  type S3StandIn,
  startDynalite,
  startS3rver,
  useFakeAwsEnvironment,
} from "./aws-standins.ts";
import { writeLambdaConfig } from "./lambda-config.ts";
import { closedPort } from "./line-server.ts";
import { RecordingLogger } from "./recording-logger.ts";

useFakeAwsEnvironment();
const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const INBOUND = "scout-returns.example.com";
export const RETURN_TO = `returns@${INBOUND}`;
export const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";
export const DEADLINE_S = 300;
export const scheduledEvent = JSON.parse(
  readFileSync(new URL("../fixtures/aws/scheduled-event.json", import.meta.url), "utf8"),
) as unknown;

export const ses = mockClient(SESClient);
export const secretsManager = mockClient(SecretsManagerClient);
export const sqs = mockClient(SQSClient);
export const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
export const key: ProbeKey = { id: "k1", key: newProbeKey() };
export const root = mkdtempSync(join(tmpdir(), "scout-aws-e2e-"));
export let dynamo: DynamoStandIn;
export let s3: S3StandIn;
export let refusedPort: number;
export let emailReturn: string;

/** Registers the stand-ins' start/stop and the per-test mock set-up in the calling test file. */
export function useHandlerStandIns(): void {
  beforeAll(async () => {
    if (!existsSync(join(REPO, "dist/email_return.cjs"))) {
      execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: REPO, stdio: "pipe" });
    }
    // A private copy: a rebuild of dist/ elsewhere cannot swap the file mid-test.
    emailReturn = join(root, "email_return.cjs");
    copyFileSync(join(REPO, "dist/email_return.cjs"), emailReturn);
    [dynamo, s3] = await Promise.all([startDynalite(), startS3rver()]);
    refusedPort = await closedPort();
  });
  afterAll(async () => {
    await Promise.all([dynamo?.close(), s3?.close()]);
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    ses.reset();
    secretsManager.reset();
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: KEY_ARN })
      .resolves({ SecretString: formatProbeKeyRing([key]) });
    ses.on(SendRawEmailCommand).resolves({ MessageId: "0100018f-standin" });
    // A production account's quota: the prober reads it at the start of each run to pace its sends.
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 0 });
  });
}

let caseNumber = 0;

/**
 * A fresh pair of tables, a config file and both handlers wired to the stand-ins. `targets`
 * replaces the one target mx1 (a refused SMTP endpoint and a probe).
 */
export async function deployment(options: { clock?: Clock; targets?: object[] } = {}) {
  caseNumber += 1;
  const dir = join(root, `case-${caseNumber}`);
  execFileSync("mkdir", ["-p", dir]);
  const tables = await createScoutTables(dynamo.client);
  const configFile = join(dir, "scout-config.json");
  writeLambdaConfig(configFile, {
    inbound: { domain: INBOUND, returnAddress: RETURN_TO },
    roundTrip: { deadlineSeconds: DEADLINE_S, warningSeconds: 30, criticalSeconds: 120 },
    targets: options.targets ?? [
      {
        id: "mx1",
        endpoints: [{ url: `smtp://127.0.0.1:${refusedPort}` }],
        probe: { to: "probe@mx1.example.com" },
      },
    ],
    // One endpoint that wants every event: the event sink queues one message per endpoint.
    webhooks: { endpoints: [{ id: "sentinel3g", url: "https://sentinel.example.com/hooks" }] },
    aws: { retentionDays: 7 },
  });
  const env = {
    PROBES_TABLE: tables.probesTable,
    RESULTS_TABLE: tables.resultsTable,
    RETURNS_BUCKET: s3.bucket,
    PROBE_KEY_SECRET_ARN: KEY_ARN,
    SCOUT_CONFIG_FILE: configFile,
    SES_FROM: `Email Scout <scout@${INBOUND}>`,
    EVENTS_QUEUE_URL: QUEUE_URL,
  };
  const log = new RecordingLogger();
  const common = {
    env,
    log,
    dynamodb: dynamo.client,
    secretsManager: new SecretsManagerClient({ region: REGION }),
    sqs: new SQSClient({ region: REGION }),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const doc = documentClient(dynamo.client);
  // Each call is another container of the prober: its own runtime, clients and cold start.
  const newProber = () => createProberHandler({ ...common, ses: new SESClient({ region: REGION }) });
  return {
    dir,
    log,
    prober: newProber(),
    newProber,
    correlator: createCorrelatorHandler({ ...common, s3: s3.client }),
    probes: new DynamoProbeStore({ doc, ...tables, retentionDays: 7 }),
    checks: new DynamoCheckStore({ doc, table: tables.resultsTable, retentionDays: 7 }),
    statuses: new DynamoStatusStore({ doc, table: tables.resultsTable, retentionDays: 7 }),
  };
}

/** What SES was asked to send, last call first. */
export function sentProbes(): { source: string; raw: Buffer }[] {
  return ses
    .commandCalls(SendRawEmailCommand)
    .map((call) => ({
      source: call.args[0].input.Source ?? "",
      raw: Buffer.from(call.args[0].input.RawMessage?.Data ?? new Uint8Array()),
    }))
    .reverse();
}

/** The events queued so far, as the notifier will read them: [type, target, data.outcome or data.status]. */
export function queuedEvents(): [string, string, unknown][] {
  return sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => {
      const event = JSON.parse(entry.MessageBody ?? "{}") as {
        type: string;
        target: string;
        data: Record<string, unknown>;
      };
      return [event.type, event.target, event.data.outcome ?? event.data.status] as [string, string, unknown];
    }),
  );
}

export function probeIdOf(source: string): string {
  return /^bounces\+([A-Za-z0-9_-]+)@/.exec(source)?.[1] ?? "";
}

/** Runs the real email_return on `probe` as Postfix's pipe would; returns what it gave sendmail. */
export async function runEmailReturn(dir: string, probe: Buffer, sender: string): Promise<Buffer> {
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([key]));
  chmodSync(keyFile, 0o600);
  const sendmail = join(dir, "sendmail");
  writeFileSync(sendmail, `#!/bin/sh\ncat > "$OUT_DIR/reply.eml"\n`);
  chmodSync(sendmail, 0o755);
  const config = join(dir, "return.json");
  writeFileSync(config, JSON.stringify({ returnTo: RETURN_TO, keyFile, sendmail, maxAgeSeconds: 3600 }));
  const child = spawn(process.execPath, [emailReturn, "--config", config], {
    cwd: "/",
    env: {
      PATH: "/usr/bin:/bin",
      HOME: dir,
      USER: "probe",
      SENDER: sender,
      DOMAIN: "mx1.example.com",
      OUT_DIR: dir,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  child.stdin.end(probe);
  expect(await exited, output).toBe(0);
  return readFileSync(join(dir, "reply.eml"));
}

/** Stores `raw` under `key` as the SES receipt rule would; returns s3rver's notification as real S3 sends it. */
export async function storeReturn(key: string, raw: Buffer) {
  const notified = s3.nextEvent(key);
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: raw }));
  return asRealS3Event(await notified);
}
