import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  GetSendQuotaCommand,
  SESClient,
  SendRawEmailCommand,
  type SendRawEmailCommandInput,
} from "@aws-sdk/client-ses";
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import type { ScoutEvent } from "../../core/events/event.ts";
import { STATUSES } from "../../core/model/status.ts";
import {
  formatProbeKeyRing,
  newProbeKey,
  type ProbeKey,
  type ProbeKeyRing,
} from "../../core/wire/probe-key.ts";
import { DynamoCheckStore } from "../../lambdas/aws/dynamo-check-store.ts";
import { documentClient } from "../../lambdas/aws/dynamo-client.ts";
import { DynamoProbeStore } from "../../lambdas/aws/dynamo-probe-store.ts";
import { DynamoStatusStore } from "../../lambdas/aws/dynamo-status-store.ts";
import { DEFAULT_SECRET_TTL_MS } from "../../lambdas/aws/secret-cache.ts";
import { createCorrelatorHandler } from "../../lambdas/handlers/correlator.ts";
import { createProberHandler } from "../../lambdas/handlers/prober.ts";
import { parseDeliveryMessage } from "../../lambdas/runtime/delivery-message.ts";
import {
  asRealS3Event,
  createScoutTables,
  REGION,
  startDynalite,
  startS3rver,
  useFakeAwsEnvironment,
} from "./aws-standins.ts";
import { captureEmf, type EmfLine, metricPoints } from "./emf-capture.ts";
import { writeLambdaConfig } from "./lambda-config.ts";
import { RecordingLogger } from "./recording-logger.ts";
import {
  caseDirectory,
  type InboundEnvelope,
  ManualClock,
  type SentProbe,
  type ShellOptions,
  type ShellRuntime,
  sharedConfig,
  startEndpointServers,
} from "./shell-runtimes.ts";

const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";
const MAILBOX_PASSWORD_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-mailbox-AbCdEf";
const OWN_KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-key-rt2-AbCdEf";
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
const RETENTION_DAYS = 7;
const scheduledEvent = JSON.parse(
  readFileSync(new URL("../fixtures/aws/scheduled-event.json", import.meta.url), "utf8"),
) as unknown;

/**
 * The AWS shape: the prober and correlator handlers with DynamoDB on dynalite, S3 on s3rver, and
 * SES, SQS and Secrets Manager as aws-sdk-client-mock stand-ins on this runtime's own clients.
 * The SQS stand-in keeps what it accepts, as the queue would; refused, it keeps nothing. Inbound
 * mail is stored under returns/ with the trace fields SES puts on top, and the correlator runs on
 * s3rver's notification made to look like real S3's; S3 stamps eventTime with the monitor's clock.
 */
export async function awsRuntime(options: ShellOptions = {}): Promise<ShellRuntime> {
  useFakeAwsEnvironment();
  const dir = caseDirectory("aws");
  const clock = new ManualClock();
  /** The EMF lines of every prober run so far. */
  const emf: EmfLine[] = [];
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
    const [dynamo, s3] = await Promise.all([startDynalite(), startS3rver()]);
    closers.push(
      () => dynamo.close(),
      () => s3.close(),
    );
    const { probesTable, resultsTable } = await createScoutTables(dynamo.client);

    const queue = queueStandIn();
    const mail = sesStandIn(options.onProbeSent);
    const secretsManager = new SecretsManagerClient({ region: REGION });
    const secretsMock = mockClient(secretsManager);
    const holdRing = (secretId: string, held: ProbeKeyRing) =>
      secretsMock
        .on(GetSecretValueCommand, { SecretId: secretId })
        .resolves({ SecretString: formatProbeKeyRing(held) });
    holdRing(KEY_ARN, ring);
    if (ownTargetRing) holdRing(OWN_KEY_ARN, ownTargetRing);
    const mailbox = options.fetchMailbox;
    if (mailbox !== undefined) {
      secretsMock
        .on(GetSecretValueCommand, { SecretId: MAILBOX_PASSWORD_ARN })
        .resolves({ SecretString: mailbox.password });
    }
    closers.push(async () => {
      for (const restore of [queue.restore, mail.restore, () => secretsMock.restore()]) restore();
    });

    const configFile = join(dir, "scout-config.json");
    const shared = sharedConfig(
      servers,
      { url: "https://sentinel.example.com/hooks" },
      {
        ...(mailbox && { fetch: { url: mailbox.url, passwordFile: MAILBOX_PASSWORD_ARN } }),
        ...(ownTargetRing && { ownKeyFile: OWN_KEY_ARN }),
        ...(options.postureResolver && { postureResolver: options.postureResolver }),
      },
    );
    writeLambdaConfig(configFile, { ...shared, aws: { retentionDays: RETENTION_DAYS } });
    const common = {
      env: {
        PROBES_TABLE: probesTable,
        RESULTS_TABLE: resultsTable,
        RETURNS_BUCKET: s3.bucket,
        PROBE_KEY_SECRET_ARN: KEY_ARN,
        SCOUT_CONFIG_FILE: configFile,
        EVENTS_QUEUE_URL: QUEUE_URL,
      },
      log: new RecordingLogger(),
      clock,
      dynamodb: dynamo.client,
      secretsManager,
      sqs: queue.client,
    };
    const prober = createProberHandler({ ...common, ses: mail.client });
    const correlator = createCorrelatorHandler({ ...common, s3: s3.client });

    const doc = documentClient(dynamo.client);
    const table = { doc, retentionDays: RETENTION_DAYS };
    const probes = new DynamoProbeStore({ ...table, probesTable, resultsTable, clock });
    const statuses = new DynamoStatusStore({ ...table, table: resultsTable });

    return {
      name: "aws",
      clock,
      probeKey,
      probeKeyRing: () => ring,
      ownTargetRing,
      async rotateProbeKeys(edit) {
        ring = edit(ring);
        holdRing(KEY_ARN, ring);
        // Each function's secret cache reads the new value once its TTL has passed.
        clock.advance(DEFAULT_SECRET_TTL_MS);
      },
      endpoints: { answering: servers.answering, refusing: servers.refusing },
      stores: { probes, checks: new DynamoCheckStore({ ...table, table: resultsTable }), statuses },
      async runCycle() {
        // captureEmf keeps the metrics' EMF lines off the test output.
        const { lines } = await captureEmf(() => prober(scheduledEvent));
        emf.push(...lines);
      },
      sentProbes: () => [...mail.accepted],
      async deliverInbound(raw, envelope) {
        const arrivedAtMs = clock.now();
        const key = `returns/${randomBytes(12).toString("hex")}`;
        const notified = s3.nextEvent(key);
        const stored = Buffer.concat([sesTraceFields(envelope, arrivedAtMs), raw]);
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: stored }));
        const event = asRealS3Event(await notified);
        const atMonitorTime = {
          ...event,
          Records: event.Records.map((record) => ({
            ...record,
            eventTime: new Date(arrivedAtMs).toISOString(),
          })),
        };
        await captureEmf(() => correlator(atMonitorTime));
        return { arrivedAtMs };
      },
      probes: (targetId) => probes.recent(targetId, 0, 100),
      postureMetrics: async () =>
        metricPoints(emf)
          .filter((point) => point.name === "PostureStatus")
          .map((point) => ({
            target: String(point.dimensions.Target),
            check: String(point.dimensions.Check),
            status: STATUSES[Number(point.value)] ?? `code ${String(point.value)}`,
          })),
      statusOf: (targetId, subject) => statuses.getStatus(targetId, subject),
      queuedEvents: () => queue.events(),
      async refuseQueue(on) {
        queue.refusing = on;
      },
      refuseSends(on) {
        mail.refusing = on;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * What SES puts on top of a message it stores (Return-Path, then its own Received field naming
 * the one recipient), so the correlator reads the envelope the way it does in production.
 */
function sesTraceFields(envelope: InboundEnvelope, atMs: number): Buffer {
  const date = new Date(atMs).toUTCString().replace(/GMT$/, "+0000");
  const recipient = envelope.to.length === 1 ? `\r\n for ${envelope.to[0]}` : "";
  return Buffer.from(
    `Return-Path: <${envelope.from}>\r\n` +
      "Received: from mx1.example.com (mx1.example.com [192.0.2.25])\r\n" +
      ` by inbound-smtp.${REGION}.amazonaws.com with SMTP id ${randomBytes(10).toString("hex")}` +
      `${recipient};\r\n ${date}\r\n`,
  );
}

/** The events queue: an SQS client whose SendMessageBatch is kept here, or refused. */
function queueStandIn() {
  const client = new SQSClient({ region: REGION });
  const mock = mockClient(client);
  const accepted: SendMessageBatchRequestEntry[] = [];
  const queue = {
    client,
    refusing: false,
    restore: () => mock.restore(),
    /** The accepted messages as the notifier reads them: parseDeliveryMessage, then the body. */
    events: (): ScoutEvent[] =>
      accepted.map((entry, index) => {
        const message = parseDeliveryMessage({
          messageId: String(index),
          receiptHandle: `receipt-${index}`,
          body: entry.MessageBody ?? "",
          attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0" },
          messageAttributes: Object.fromEntries(
            Object.entries(entry.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              {
                dataType: value.DataType ?? "String",
                ...(value.StringValue ? { stringValue: value.StringValue } : {}),
              },
            ]),
          ),
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:scout-events",
        });
        return JSON.parse(message.event.json) as ScoutEvent;
      }),
  };
  mock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
    if (queue.refusing) {
      throw Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" });
    }
    accepted.push(...(input.Entries ?? []));
    return { Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id })), Failed: [] };
  });
  return queue;
}

/**
 * SES: GetSendQuota answers a production account's quota; SendRawEmail keeps the probe it accepts,
 * or rejects it as SES does an unverified address.
 */
function sesStandIn(onProbeSent?: (probe: SentProbe) => void) {
  const client = new SESClient({ region: REGION });
  const mock = mockClient(client);
  const mail = { client, refusing: false, accepted: [] as SentProbe[], restore: () => mock.restore() };
  mock.on(GetSendQuotaCommand).resolves({ Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 0 });
  mock.on(SendRawEmailCommand).callsFake(async (input: SendRawEmailCommandInput) => {
    if (mail.refusing) {
      throw Object.assign(new Error("Email address is not verified."), { name: "MessageRejected" });
    }
    const probe = {
      envelope: { from: input.Source ?? "", to: input.Destinations ?? [] },
      raw: Buffer.from(input.RawMessage?.Data ?? new Uint8Array()),
    };
    mail.accepted.push(probe);
    onProbeSent?.(probe);
    return { MessageId: `0100018f-${randomBytes(8).toString("hex")}` };
  });
  return mail;
}
