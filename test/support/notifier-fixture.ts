/*
 * The notifier Lambda's test fixture: SQS and Secrets Manager mocked, the webhook holds table on
 * dynalite, real HTTP receivers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { ScoutEvent } from "../../core/events/event.ts";
import { createNotifierHandler } from "../../lambdas/handlers/notifier.ts";
import type { NotifierOptions } from "../../lambdas/runtime/notifier-runtime.ts";
import {
  createWebhookHoldsTable,
  type DynamoStandIn,
  REGION,
  startDynalite,
  useFakeAwsEnvironment,
} from "./aws-standins.ts";
import { writeLambdaConfig } from "./lambda-config.ts";
import { RecordingLogger } from "./recording-logger.ts";
import { newWebhookSecret, type Script, WebhookReceiver } from "./webhook-receiver.ts";

useFakeAwsEnvironment();
export const sqs = mockClient(SQSClient);
export const secretsManager = mockClient(SecretsManagerClient);
const receivers: WebhookReceiver[] = [];
const dirs: string[] = [];
let dynamo: DynamoStandIn | undefined;

/** The dynalite the notifier's holds tables live on (one per test file). */
export function holdsDynamo(): DynamoStandIn {
  if (dynamo === undefined) throw new Error("useNotifierFixture() starts dynalite in beforeAll");
  return dynamo;
}

/** Registers the per-test mock reset and the clean-up of receivers and folders in the calling file. */
export function useNotifierFixture(): void {
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  beforeEach(() => {
    sqs.reset();
    secretsManager.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: "dlq-message" });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dynamo?.close();
    dynamo = undefined;
  });
}

export const SECRET = newWebhookSecret();
export const DAY_MS = 86_400_000;

/** A receiver answering as `script` says, and a notifier delivering to it as endpoint "hooks". */
export async function notifierFor(
  script: Script,
  options: {
    secrets?: Record<string, string>;
    endpoint?: Record<string, unknown>;
    /** Settings of the config's `webhooks` block besides the endpoints (maxAgeSeconds...). */
    webhooks?: Record<string, unknown>;
    random?: () => number;
    /** Overrides of the handler's options (clock, sqs client...). */
    handler?: Partial<NotifierOptions>;
  } = {},
) {
  const receiver = await WebhookReceiver.start(script);
  receivers.push(receiver);
  const configFile = writeConfig(
    [{ id: "hooks", url: receiver.url, timeoutSeconds: 5, ...options.endpoint }],
    options.webhooks,
  );
  secretsManager
    .on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ARN })
    .resolves({ SecretString: JSON.stringify(options.secrets ?? { "replace-me": "x", hooks: SECRET }) });
  const log = new RecordingLogger();
  const holdsTable = await createWebhookHoldsTable(holdsDynamo().client);
  const handlerOptions: NotifierOptions = {
    env: {
      SCOUT_CONFIG_FILE: configFile,
      WEBHOOK_SECRET_ARN,
      EVENTS_QUEUE_URL: QUEUE_URL,
      EVENTS_DLQ_URL: DLQ_URL,
      WEBHOOK_HOLDS_TABLE: holdsTable,
    },
    sqs: new SQSClient({ region: REGION }),
    secretsManager: new SecretsManagerClient({ region: REGION }),
    dynamodb: holdsDynamo().client,
    log,
    random: options.random ?? (() => 0.5),
    ...options.handler,
  };
  return { receiver, log, holdsTable, notify: createNotifierHandler(handlerOptions) };
}

export function deadLetters() {
  return sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
}

export function visibilityChanges() {
  return sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
}

export function attribute(input: ReturnType<typeof deadLetters>[number] | undefined, name: string) {
  return input?.MessageAttributes?.[name]?.StringValue;
}

/*
 * What the notifier tests share: SQS records shaped as Lambda's event source delivers them, and a
 * config file with webhook endpoints.
 */

export const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
export const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events-dlq";
export const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:scout-events";
export const WEBHOOK_SECRET_ARN =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-webhooks-AbCdEf";

let eventCounter = 0;

/** A status.changed event of customer acme, with a fresh id. */
export function scoutEvent(overrides: Partial<ScoutEvent> = {}): ScoutEvent {
  eventCounter += 1;
  return {
    id: `evt_01JDQ8X7W1T3M6V2ZC4K9N${String(eventCounter).padStart(4, "0")}`,
    type: "status.changed",
    version: 1,
    time: new Date().toISOString(),
    customer: "acme",
    target: "mx1",
    data: { status: "CRITICAL", previous: "OK" },
    ...overrides,
  };
}

export interface RecordOptions {
  readonly endpointId?: string | undefined;
  readonly body?: string;
  readonly receiveCount?: number;
  readonly sentAtMs?: number;
}

let recordCounter = 0;

/** One SQS record as Lambda's event source hands it over. */
export function sqsRecord(event: ScoutEvent | undefined, options: RecordOptions = {}) {
  recordCounter += 1;
  const endpointId = "endpointId" in options ? options.endpointId : "hooks";
  return {
    messageId: `0e6a4f7e-0000-4000-8000-${String(recordCounter).padStart(12, "0")}`,
    receiptHandle: `AQEB-receipt-${recordCounter}`,
    body: options.body ?? JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(options.sentAtMs ?? Date.now()),
      SenderId: "AROAEXAMPLE:prober",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes:
      endpointId === undefined
        ? {}
        : {
            endpointId: stringAttribute(endpointId),
            // As SqsEventSink queues them: for people looking at the queue.
            ...(event ? { eventId: stringAttribute(event.id), eventType: stringAttribute(event.type) } : {}),
          },
    md5OfBody: "00000000000000000000000000000000",
    eventSource: "aws:sqs",
    eventSourceARN: QUEUE_ARN,
    awsRegion: "eu-west-1",
  };
}

export function stringAttribute(value: string) {
  return { stringValue: value, stringListValues: [], binaryListValues: [], dataType: "String" };
}

export function sqsEvent(...records: ReturnType<typeof sqsRecord>[]) {
  return { Records: records };
}

/** Writes a deploy config with these webhook endpoints; returns its path. */
export function writeConfig(
  endpoints: readonly Record<string, unknown>[],
  webhooks: Record<string, unknown> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), "scout-notifier-"));
  dirs.push(dir);
  const file = join(dir, "scout-config.json");
  writeLambdaConfig(file, {
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }] }],
    webhooks: { ...webhooks, endpoints },
  });
  return file;
}
