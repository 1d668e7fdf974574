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
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoCheckStore } from "../../../lambdas/adapters/aws/dynamo-check-store.ts";
import { documentClient } from "../../../lambdas/adapters/aws/dynamo-client.ts";
import { DynamoProbeStore } from "../../../lambdas/adapters/aws/dynamo-probe-store.ts";
import { formatProbeKeyFile, newProbeKey } from "../../../lambdas/core/probe-key.ts";
import { createCorrelatorHandler } from "../../../lambdas/handlers/correlator.ts";
import { createProberHandler } from "../../../lambdas/handlers/prober.ts";
import type { Clock } from "../../../lambdas/ports/clock.ts";
import type { LogFields, Logger } from "../../../lambdas/ports/logger.ts";
import {
  asRealS3Event,
  createScoutTables,
  type DynamoStandIn,
  REGION,
  type S3StandIn,
  startDynalite,
  startS3rver,
  useFakeAwsEnvironment,
} from "../../support/aws-standins.ts";
import { emailReturnReply } from "../../support/email-return-reply.ts";
import { captureEmf, metricPoints } from "./emf-capture.ts";

useFakeAwsEnvironment();
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const INBOUND = "scout-returns.example.com";
const RETURN_TO = `returns@${INBOUND}`;
const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";
const DEADLINE_S = 300;
const scheduledEvent = JSON.parse(
  readFileSync(new URL("../../fixtures/aws/scheduled-event.json", import.meta.url), "utf8"),
) as unknown;

const ses = mockClient(SESClient);
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
const key = newProbeKey();
const root = mkdtempSync(join(tmpdir(), "scout-aws-e2e-"));
let dynamo: DynamoStandIn;
let s3: S3StandIn;
let refusedPort: number;
let emailReturn: string;

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
    .resolves({ SecretString: formatProbeKeyFile(key) });
  ses.on(SendRawEmailCommand).resolves({ MessageId: "0100018f-standin" });
});

/** A port nothing listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

class RecordingLogger implements Logger {
  readonly entries: { level: string; message: string; fields: LogFields }[] = [];
  info = (message: string, fields: LogFields = {}) => this.entries.push({ level: "info", message, fields });
  warn = (message: string, fields: LogFields = {}) => this.entries.push({ level: "warn", message, fields });
  error = (message: string, fields: LogFields = {}) => this.entries.push({ level: "error", message, fields });
}

let caseNumber = 0;

/** A fresh pair of tables, a config file and both handlers wired to the stand-ins. */
async function deployment(options: { clock?: Clock } = {}) {
  caseNumber += 1;
  const dir = join(root, `case-${caseNumber}`);
  execFileSync("mkdir", ["-p", dir]);
  const tables = await createScoutTables(dynamo.client);
  const configFile = join(dir, "scout-config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      inbound: { domain: INBOUND, returnAddress: RETURN_TO },
      roundTrip: { deadlineSeconds: DEADLINE_S, warningSeconds: 30, criticalSeconds: 120 },
      targets: [
        {
          id: "mx1",
          endpoints: [{ url: `smtp://127.0.0.1:${refusedPort}` }],
          probe: { to: "probe@mx1.example.com" },
        },
      ],
      // One endpoint that wants every event: the event sink queues one message per endpoint.
      webhooks: { endpoints: [{ id: "sentinel3g", url: "https://sentinel.example.com/hooks" }] },
      aws: { retentionDays: 7 },
    }),
  );
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
  return {
    dir,
    log,
    prober: createProberHandler({ ...common, ses: new SESClient({ region: REGION }) }),
    correlator: createCorrelatorHandler({ ...common, s3: s3.client }),
    probes: new DynamoProbeStore({ doc, ...tables, retentionDays: 7 }),
    checks: new DynamoCheckStore({ doc, table: tables.resultsTable, retentionDays: 7 }),
  };
}

/** What SES was asked to send, last call first. */
function sentProbes(): { source: string; raw: Buffer }[] {
  return ses
    .commandCalls(SendRawEmailCommand)
    .map((call) => ({
      source: call.args[0].input.Source ?? "",
      raw: Buffer.from(call.args[0].input.RawMessage?.Data ?? new Uint8Array()),
    }))
    .reverse();
}

/** The events queued so far, as the notifier will read them: [type, target, data.outcome or data.status]. */
function queuedEvents(): [string, string, unknown][] {
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

function probeIdOf(source: string): string {
  return /^bounces\+([A-Za-z0-9_-]+)@/.exec(source)?.[1] ?? "";
}

/** Runs the real email_return on `probe` as Postfix's pipe would; returns what it gave sendmail. */
async function runEmailReturn(dir: string, probe: Buffer, sender: string): Promise<Buffer> {
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyFile(key));
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
async function storeReturn(key: string, raw: Buffer) {
  const notified = s3.nextEvent(key);
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: raw }));
  return asRealS3Event(await notified);
}

describe("prober and correlator on the stand-ins", () => {
  it("sends a probe that email_return answers; the stored return becomes a measured round trip", async () => {
    const { dir, prober, correlator, probes, checks } = await deployment();
    const proberRun = await captureEmf(() => prober(scheduledEvent));
    expect(proberRun.result).toEqual({
      checks: 1,
      notOk: 1,
      probesSent: 1,
      sendFailed: 0,
      lost: 0,
      events: 1,
      errors: [],
    });
    expect(queuedEvents()).toEqual([["check.completed", "mx1", "CRITICAL"]]);
    // The service check's result is stored whatever it found.
    expect(await checks.latestCheckResults()).toEqual([
      {
        targetId: "mx1",
        result: expect.objectContaining({ status: "CRITICAL", reason: "refused", port: refusedPort }),
      },
    ]);
    expect(metricPoints(proberRun.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual(
      expect.arrayContaining([
        ["CheckFailed", { Target: "mx1", Protocol: "smtp" }, 1],
        ["ProbeSendFailed", { Target: "mx1" }, 0],
        ["ProbeLost", { Target: "mx1" }, 0],
      ]),
    );

    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({ state: "sent", targetId: "mx1" });
    expect(sent?.raw.toString()).toMatch(/^From: Email Scout <scout@scout-returns\.example\.com>\r$/m);

    const reply = await runEmailReturn(dir, sent?.raw ?? Buffer.alloc(0), sent?.source ?? "");
    // "+" and a space: real S3 writes them into the notification as %2B and +.
    const event = await storeReturn(`returns/${probeId}+reply 1`, reply);
    expect(event.Records[0]?.s3.object.key).toBe(`returns/${probeId}%2Breply+1`);

    const correlatorRun = await captureEmf(() => correlator(event));
    expect(correlatorRun.result).toEqual({ records: 1, returned: 1, events: 1 });
    expect(queuedEvents().at(-1)).toEqual(["roundtrip.completed", "mx1", "returned"]);
    const returned = await probes.get(probeId);
    expect(returned).toMatchObject({ state: "returned" });
    const eventTime = Date.parse((event.Records[0] as unknown as { eventTime: string }).eventTime);
    expect(returned?.returnedAtMs).toBe(eventTime);
    expect(returned?.rttMs).toBe(eventTime - (returned?.sentAtMs ?? 0));
    expect(returned?.rttMs).toBeGreaterThanOrEqual(0);
    expect(metricPoints(correlatorRun.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["RoundTripTime", { Target: "mx1" }, returned?.rttMs],
      ["ProbeReturned", { Target: "mx1" }, 1],
    ]);
  });

  it("records one result when S3 delivers the same object twice", async () => {
    const { correlator, prober, probes } = await deployment();
    await captureEmf(() => prober(scheduledEvent));
    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    const reply = emailReturnReply(sent?.raw ?? Buffer.alloc(0), {
      key,
      returnTo: RETURN_TO,
      nowMs: Date.now(),
      uniqueId: "dup",
    });
    const event = await storeReturn(`returns/${probeId}-dup`, reply);
    const first = await captureEmf(() => correlator(event));
    const after = await probes.get(probeId);
    const second = await captureEmf(() => correlator(event));
    expect(first.result).toEqual({ records: 1, returned: 1, events: 1 });
    // The duplicate makes no second measurement, metric or event.
    expect(second.result).toEqual({ records: 1, duplicate: 1 });
    expect(await probes.get(probeId)).toEqual(after);
    expect(metricPoints(second.lines)).toEqual([]);
  });

  it("counts a forged return as rejected and changes nothing", async () => {
    const { correlator, prober, probes, log } = await deployment();
    await captureEmf(() => prober(scheduledEvent));
    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    const genuine = emailReturnReply(sent?.raw ?? Buffer.alloc(0), {
      key,
      returnTo: RETURN_TO,
      nowMs: Date.now(),
      uniqueId: "forged",
    }).toString("latin1");
    // The token's last character changed: its HMAC no longer matches.
    const forged = genuine.replace(/^(X-Scout-Probe: \S*)(\S)\r$/m, (_line, head: string, last: string) => {
      return `${head}${last === "A" ? "B" : "A"}\r`;
    });
    expect(forged).not.toBe(genuine);
    const before = await probes.get(probeId);
    const event = await storeReturn(`returns/${probeId}-forged`, Buffer.from(forged, "latin1"));
    const run = await captureEmf(() => correlator(event));
    expect(run.result).toEqual({ records: 1, rejected: 1 });
    expect(await probes.get(probeId)).toEqual(before);
    expect(await probes.rejectionCounts(Date.now() - 60_000)).toEqual({ "token-bad-signature": 1 });
    expect(metricPoints(run.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["ReturnRejected", { Reason: "token-bad-signature" }, 1],
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "return rejected",
        fields: expect.objectContaining({ reason: "token-bad-signature" }),
      }),
    );
  });

  it("reads the statuses with one Query a run, writes check results in batches, and a status only when it changes", async () => {
    const { prober, checks } = await deployment();
    const calls: { command: string; pk: unknown }[] = [];
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        // Plain or marshalled ({ S: ... }): the document client converts at the same step.
        const text = (value: unknown) => (value as { S?: string } | undefined)?.S ?? value;
        const input = args.input as {
          Key?: { pk?: unknown };
          Item?: { pk?: unknown };
          ExpressionAttributeValues?: Record<string, unknown>;
        };
        const pk = text(input.Key?.pk ?? input.Item?.pk ?? input.ExpressionAttributeValues?.[":pk"]);
        calls.push({ command: String(context.commandName).replace(/Command$/, ""), pk });
        return next(args);
      },
      { step: "initialize", name: "countProberCalls" },
    );
    try {
      // The endpoint refuses every run: pending (1 of 2), then confirmed CRITICAL, then stable.
      const runs = [];
      for (let run = 0; run < 3; run++) {
        calls.length = 0;
        runs.push((await captureEmf(() => prober(scheduledEvent))).result);
        const statusCalls = calls.filter((call) => call.pk === "status").map((call) => call.command);
        expect(statusCalls, `run ${run + 1}`).toEqual(run < 2 ? ["Query", "PutItem"] : ["Query"]);
        expect(
          calls.filter((call) => call.command === "BatchWriteItem"),
          `run ${run + 1}`,
        ).toHaveLength(1);
      }
      expect(runs.map((run) => (run as { errors: unknown[] }).errors)).toEqual([[], [], []]);
      // One confirmed change over the three runs (OK -> CRITICAL on the second).
      expect(
        queuedEvents()
          .filter(([type]) => type === "status.changed")
          .map(([type, target]) => [type, target]),
      ).toEqual([["status.changed", "mx1"]]);
      expect(await checks.latestCheckResults()).toEqual([
        { targetId: "mx1", result: expect.objectContaining({ status: "CRITICAL" }) },
      ]);
      expect(await checks.checkHistory("mx1", `smtp://127.0.0.1:${refusedPort}`, 0, 10)).toHaveLength(3);
    } finally {
      dynamo.client.middlewareStack.remove("countProberCalls");
    }
  });

  it("sweeps a probe past its deadline to lost on a later run", async () => {
    let nowMs = Date.now();
    const { prober, probes } = await deployment({ clock: { now: () => nowMs } });
    const first = await captureEmf(() => prober(scheduledEvent));
    expect(first.result).toMatchObject({ probesSent: 1, lost: 0 });
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");

    nowMs += DEADLINE_S * 1000 + 1;
    const second = await captureEmf(() => prober(scheduledEvent));
    expect(second.result).toMatchObject({ probesSent: 1, lost: 1, errors: [] });
    expect(await probes.get(probeId)).toMatchObject({ state: "lost", updatedAtMs: nowMs });
    expect(queuedEvents()).toContainEqual(["roundtrip.completed", "mx1", "lost"]);
    expect(metricPoints(second.lines).map((p) => [p.name, p.dimensions, p.value])).toContainEqual([
      "ProbeLost",
      { Target: "mx1" },
      1,
    ]);
  });

  it("rejects a message over inbound.maxBytes without reading it, and skips objects outside returns/", async () => {
    const { correlator, probes } = await deployment();
    const big = await storeReturn("returns/huge message", Buffer.alloc(1024 * 1024 + 1, 0x61));
    const elsewhere = await storeReturn("other/x", Buffer.from("Subject: x\r\n\r\n"));
    const run = await captureEmf(() => correlator({ Records: [...big.Records, ...elsewhere.Records] }));
    expect(run.result).toEqual({ records: 2, "too-large": 1, skipped: 1 });
    expect(await probes.rejectionCounts(Date.now() - 60_000)).toEqual({ "malformed-mail": 1 });
  });

  it("keeps going when SES refuses a probe: the probe is send-failed and the run still sweeps", async () => {
    const { prober, probes } = await deployment();
    ses.reset();
    ses
      .on(SendRawEmailCommand)
      .rejects(Object.assign(new Error("Email address is not verified."), { name: "MessageRejected" }));
    const run = await captureEmf(() => prober(scheduledEvent));
    expect(run.result).toEqual({
      checks: 1,
      notOk: 1,
      probesSent: 0,
      sendFailed: 1,
      lost: 0,
      events: 2,
      errors: [],
    });
    expect(queuedEvents()).toContainEqual(["roundtrip.completed", "mx1", "send-failed"]);
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({
      state: "send-failed",
      error: "Email address is not verified.",
    });
    expect(metricPoints(run.lines).map((p) => [p.name, p.value])).toContainEqual(["ProbeSendFailed", 1]);
  });

  it("reports a queue that refuses events in the summary and still completes the run", async () => {
    const { prober, probes } = await deployment();
    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" }));
    const run = await captureEmf(() => prober(scheduledEvent));
    expect(run.result).toMatchObject({
      checks: 1,
      probesSent: 1,
      errors: [{ step: "events", error: "Access to the resource is denied." }],
    });
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({ state: "sent" });
  });

  it("refuses an event that is not a schedule, and a broken config, each with a clear message", async () => {
    const { prober, dir } = await deployment();
    await expect(prober({ Records: [] })).rejects.toThrow(
      /^not an EventBridge Scheduled Event:\n(.*\n)* {2}- detail-type: must be "Scheduled Event"/,
    );
    writeFileSync(join(dir, "scout-config.json"), JSON.stringify({ inbound: {}, targets: [] }));
    const broken = createProberHandler({
      env: {
        PROBES_TABLE: "p-table",
        RESULTS_TABLE: "r-table",
        PROBE_KEY_SECRET_ARN: KEY_ARN,
        SCOUT_CONFIG_FILE: join(dir, "scout-config.json"),
      },
      log: new RecordingLogger(),
    });
    await expect(broken(scheduledEvent)).rejects.toThrow(
      /scout-config\.json: invalid configuration\n {2}- inbound\.domain: is required/,
    );
    const unset = createProberHandler({
      env: { SCOUT_CONFIG_FILE: join(root, "case-1", "scout-config.json") },
      log: new RecordingLogger(),
    });
    await expect(unset(scheduledEvent)).rejects.toThrow("environment variable PROBES_TABLE is not set");
  });
});
