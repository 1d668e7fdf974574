import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../lambdas/core/events/event.ts";
import { createNotifierHandler } from "../../../lambdas/handlers/notifier.ts";
import type { NotifierOptions } from "../../../lambdas/handlers/shared/notifier-runtime.ts";
import type { LogFields, Logger } from "../../../lambdas/ports/logger.ts";
import { REGION, useFakeAwsEnvironment } from "../../support/aws-standins.ts";
import { newWebhookSecret, type Script, WebhookReceiver } from "../../support/webhook-receiver.ts";
import { captureEmf, metricPoints } from "./emf-capture.ts";

useFakeAwsEnvironment();
const sqs = mockClient(SQSClient);
const secretsManager = mockClient(SecretsManagerClient);
const receivers: WebhookReceiver[] = [];
const dirs: string[] = [];

beforeEach(() => {
  sqs.reset();
  secretsManager.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: "dlq-message" });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SECRET = newWebhookSecret();
const DAY_MS = 86_400_000;

/** A receiver answering as `script` says, and a notifier delivering to it as endpoint "hooks". */
async function notifierFor(
  script: Script,
  options: {
    secrets?: Record<string, string>;
    endpoint?: Record<string, unknown>;
    random?: () => number;
  } = {},
) {
  const receiver = await WebhookReceiver.start(script);
  receivers.push(receiver);
  const configFile = writeConfig([
    { id: "hooks", url: receiver.url, timeoutSeconds: 5, ...options.endpoint },
  ]);
  secretsManager
    .on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ARN })
    .resolves({ SecretString: JSON.stringify(options.secrets ?? { "replace-me": "x", hooks: SECRET }) });
  const log = new RecordingLogger();
  const handlerOptions: NotifierOptions = {
    env: {
      SCOUT_CONFIG_FILE: configFile,
      WEBHOOK_SECRET_ARN,
      EVENTS_QUEUE_URL: QUEUE_URL,
      EVENTS_DLQ_URL: DLQ_URL,
    },
    sqs: new SQSClient({ region: REGION }),
    secretsManager: new SecretsManagerClient({ region: REGION }),
    log,
    random: options.random ?? (() => 0.5),
  };
  return { receiver, log, notify: createNotifierHandler(handlerOptions) };
}

function deadLetters() {
  return sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
}

function visibilityChanges() {
  return sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
}

function attribute(input: ReturnType<typeof deadLetters>[number] | undefined, name: string) {
  return input?.MessageAttributes?.[name]?.StringValue;
}

describe("the notifier delivers one queued event to its endpoint", () => {
  it("posts the queued body, signed so a Standard Webhooks library accepts it, and reports no failure", async () => {
    const { receiver, notify } = await notifierFor(() => ({ status: 204 }));
    const event = scoutEvent();
    const record = sqsRecord(event);
    const run = await captureEmf(() => notify(sqsEvent(record)));
    expect(run.result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0];
    expect(request?.body).toBe(record.body);
    expect(
      new Webhook(SECRET).verify(request?.body ?? "", request?.headers as Record<string, string>),
    ).toEqual(event);
    expect(request?.headers["webhook-id"]).toBe(event.id);
    expect(deadLetters()).toEqual([]);
    expect(visibilityChanges()).toEqual([]);
    expect(metricPoints(run.lines).map((p) => [p.namespace, p.name, p.unit, p.dimensions, p.value])).toEqual([
      ["EmailScout", "WebhookDelivered", "Count", { Endpoint: "hooks" }, 1],
    ]);
  });

  it("delivers a batch's records side by side, not one after another", async () => {
    // Each answer waits until all three requests arrived: one at a time, the first would time out.
    let release: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { receiver, notify } = await notifierFor(async (_request, index) => {
      if (index === 2) release();
      await allArrived;
      return { status: 200 };
    });
    const result = await notify(
      sqsEvent(sqsRecord(scoutEvent()), sqsRecord(scoutEvent()), sqsRecord(scoutEvent())),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.ids().size).toBe(3);
  });
});

describe("a failing receiver", () => {
  it("503: the record is a batch item failure, back after a jittered backoff set on its receipt handle", async () => {
    const { receiver, notify, log } = await notifierFor(() => ({ status: 503, body: "busy" }));
    // The 5th attempt: full jitter up to 1 s x 2^4 = 16 s; the test's jitter source gives the middle.
    const record = sqsRecord(scoutEvent(), { receiveCount: 5 });
    const run = await captureEmf(() => notify(sqsEvent(record)));
    expect(run.result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(receiver.requests).toHaveLength(1);
    expect(visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 8 },
    ]);
    expect(deadLetters()).toEqual([]);
    expect(metricPoints(run.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["WebhookRetried", { Endpoint: "hooks" }, 1],
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "webhook delivery failed; retrying with backoff",
        fields: expect.objectContaining({ endpoint: "hooks", status: 503, attempt: 5, retryInSeconds: 8 }),
      }),
    );
  });

  it("keeps every backoff within 0 and the ceiling for its attempt", async () => {
    const { notify } = await notifierFor(() => ({ status: 500 }), { random: Math.random });
    const records = [1, 2, 3, 4, 5, 6].map((attempt) => sqsRecord(scoutEvent(), { receiveCount: attempt }));
    const result = await notify(sqsEvent(...records));
    expect(result.batchItemFailures).toHaveLength(6);
    const byHandle = new Map(
      visibilityChanges().map((change) => [change.ReceiptHandle, change.VisibilityTimeout]),
    );
    records.forEach((record, index) => {
      const seconds = byHandle.get(record.receiptHandle) ?? -1;
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThanOrEqual(2 ** index);
    });
  });

  it("honours Retry-After in place of the backoff", async () => {
    const { notify } = await notifierFor(() => ({ status: 429, headers: { "retry-after": "120" } }));
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 120 },
    ]);
  });

  it("a receiver that cannot be reached is retried the same way", async () => {
    const { receiver, notify } = await notifierFor(() => "destroy");
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(receiver.requests).toHaveLength(1);
    expect(visibilityChanges()).toHaveLength(1);
  });

  it("past webhooks.maxAgeSeconds: one last attempt, then moved to the dead-letter queue as expired", async () => {
    const { receiver, notify } = await notifierFor(() => ({ status: 503, body: "still down" }));
    const record = sqsRecord(scoutEvent(), { receiveCount: 290, sentAtMs: Date.now() - DAY_MS - 1_000 });
    const run = await captureEmf(() => notify(sqsEvent(record)));
    expect(run.result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
    expect(visibilityChanges()).toEqual([]);
    const [moved] = deadLetters();
    expect(moved?.QueueUrl).toBe(DLQ_URL);
    expect(moved?.MessageBody).toBe(record.body);
    expect(attribute(moved, "deadLetterReason")).toBe("expired");
    expect(attribute(moved, "lastStatus")).toBe("503");
    expect(attribute(moved, "lastError")).toBe(
      "HTTP 503: still down; not delivered within 86400 s (290 attempts)",
    );
    expect(attribute(moved, "endpointId")).toBe("hooks");
    expect(attribute(moved, "attempts")).toBe("290");
    expect(metricPoints(run.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["WebhookFailed", { Endpoint: "hooks" }, 1],
    ]);
  });

  it("the age limit is the config's webhooks.maxAgeSeconds", async () => {
    const receiver = await WebhookReceiver.start(() => ({ status: 503 }));
    receivers.push(receiver);
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ hooks: SECRET }) });
    const notify = createNotifierHandler({
      env: {
        SCOUT_CONFIG_FILE: writeConfig([{ id: "hooks", url: receiver.url }], { maxAgeSeconds: 60 }),
        WEBHOOK_SECRET_ARN,
        EVENTS_QUEUE_URL: QUEUE_URL,
        EVENTS_DLQ_URL: DLQ_URL,
      },
      sqs: new SQSClient({ region: REGION }),
      secretsManager: new SecretsManagerClient({ region: REGION }),
      log: new RecordingLogger(),
    });
    const fresh = sqsRecord(scoutEvent(), { sentAtMs: Date.now() - 30_000 });
    const old = sqsRecord(scoutEvent(), { sentAtMs: Date.now() - 61_000 });
    const result = await notify(sqsEvent(fresh, old));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: fresh.messageId }] });
    expect(deadLetters().map((moved) => [moved.MessageBody, attribute(moved, "deadLetterReason")])).toEqual([
      [old.body, "expired"],
    ]);
  });
});

describe("answers that retrying cannot fix", () => {
  it("400: moved to the dead-letter queue as rejected, with the status, and not failed", async () => {
    const { notify } = await notifierFor(() => ({ status: 400, body: "unknown event type" }));
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(visibilityChanges()).toEqual([]);
    const [moved] = deadLetters();
    expect(moved?.QueueUrl).toBe(DLQ_URL);
    expect(moved?.MessageBody).toBe(record.body);
    expect(attribute(moved, "deadLetterReason")).toBe("rejected");
    expect(attribute(moved, "lastStatus")).toBe("400");
    expect(attribute(moved, "lastError")).toBe("HTTP 400: unknown event type");
    expect(attribute(moved, "eventId")).toBe(JSON.parse(record.body).id);
  });

  it("410: moved as gone, and the log says the endpoint must be fixed in the config", async () => {
    const { notify, log, receiver } = await notifierFor(() => ({ status: 410 }));
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(
      deadLetters().map((moved) => [attribute(moved, "deadLetterReason"), attribute(moved, "lastStatus")]),
    ).toEqual([["gone", "410"]]);
    const said = log.entries.find((entry) => entry.level === "error");
    expect(said?.message).toBe(
      `webhook endpoint "hooks" answered 410 Gone: the receiver wants no more events at ${receiver.url}; ` +
        "fix or remove it in webhooks.endpoints and deploy. Its events are kept in the dead-letter queue.",
    );
  });

  it("a dead-letter queue that refuses the message: the record stays queued (a batch item failure)", async () => {
    const { notify, log } = await notifierFor(() => ({ status: 400 }));
    sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" }));
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "error",
        message: "cannot move an event to the dead-letter queue; it stays queued and is retried",
        fields: expect.objectContaining({ reason: "rejected", error: "Access to the resource is denied." }),
      }),
    );
  });
});

describe("records that cannot be delivered as they are", () => {
  it("a malformed record is moved to the dead-letter queue, and its neighbours are delivered", async () => {
    const { receiver, notify, log } = await notifierFor(() => ({ status: 200 }));
    const notJson = sqsRecord(undefined, { body: "{not json" });
    const noEndpoint = sqsRecord(scoutEvent(), { endpointId: undefined });
    const notAnEvent = sqsRecord(undefined, { body: JSON.stringify({ id: "evt_1", type: "mystery" }) });
    const good = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(notJson, noEndpoint, notAnEvent, good));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.requests.map((r) => r.body)).toEqual([good.body]);
    const moved = deadLetters();
    expect(moved.map((m) => [m.MessageBody, attribute(m, "deadLetterReason")])).toEqual(
      expect.arrayContaining([
        [notJson.body, "malformed"],
        [noEndpoint.body, "malformed"],
        [notAnEvent.body, "malformed"],
      ]),
    );
    expect(moved).toHaveLength(3);
    const errors = moved.map((m) => attribute(m, "lastError")).join("\n");
    expect(errors).toMatch(/^the body is not JSON: /m);
    expect(errors).toContain("message attribute endpointId is missing");
    expect(errors).toMatch(
      /the body is not an Email Scout event: type: .*; version: .*; data: is required$/m,
    );
    expect(log.entries.filter((e) => e.message.startsWith("malformed message"))).toHaveLength(3);
  });

  it("a missing secret fails the record with an error naming the secret and the endpoint, posting nothing", async () => {
    const { receiver, notify, log } = await notifierFor(() => ({ status: 200 }), {
      secrets: { "replace-me": "abcdef", other: newWebhookSecret() },
    });
    const record = sqsRecord(scoutEvent());
    const result = await notify(sqsEvent(record));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(receiver.requests).toHaveLength(0);
    expect(deadLetters()).toEqual([]);
    const said = log.entries.find((entry) => entry.level === "error");
    expect(said?.fields.error).toBe(
      `the webhook secret ${WEBHOOK_SECRET_ARN} (WEBHOOK_SECRET_ARN) holds no whsec_ secret for endpoint "hooks": ` +
        'add "hooks": "whsec_..." to its JSON map (docs/aws.md, "Set the webhook secrets")',
    );
    expect(log.text()).not.toContain("abcdef");
  });

  it("a malformed secret fails the record saying what is wrong, never showing the value", async () => {
    const { notify, log } = await notifierFor(() => ({ status: 200 }), {
      secrets: { hooks: "whsec_dG9vc2hvcnQ=" },
    });
    const record = sqsRecord(scoutEvent());
    expect(await notify(sqsEvent(record))).toEqual({
      batchItemFailures: [{ itemIdentifier: record.messageId }],
    });
    const said = String(log.entries.find((entry) => entry.level === "error")?.fields.error);
    expect(said).toMatch(/key "hooks": a webhook secret must hold 24 to 64 bytes, this one holds 8/);
    expect(log.text()).not.toContain("dG9vc2hvcnQ");
  });

  it("a secret never set ends in the dead-letter queue once the event is too old", async () => {
    const { notify } = await notifierFor(() => ({ status: 200 }), { secrets: { "replace-me": "x" } });
    const record = sqsRecord(scoutEvent(), { sentAtMs: Date.now() - DAY_MS - 1 });
    expect(await notify(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    const [moved] = deadLetters();
    expect(attribute(moved, "deadLetterReason")).toBe("expired");
    expect(attribute(moved, "lastError")).toContain('holds no whsec_ secret for endpoint "hooks"');
  });

  it("an endpoint no longer in the config: the event is dropped with a warning", async () => {
    const { receiver, notify, log } = await notifierFor(() => ({ status: 200 }));
    const record = sqsRecord(scoutEvent(), { endpointId: "removed" });
    expect(await notify(sqsEvent(record))).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(0);
    expect(deadLetters()).toEqual([]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "event dropped: its webhook endpoint is no longer in the config",
        fields: expect.objectContaining({ endpoint: "removed" }),
      }),
    );
  });
});

describe("the handler's edges", () => {
  it("refuses an event that is not from SQS, naming the field", async () => {
    const { notify } = await notifierFor(() => ({ status: 200 }));
    await expect(notify({ Records: [{ eventSource: "aws:s3" }] })).rejects.toThrow(
      /^not an SQS event from the events queue \(Records\[\] of aws:sqs\):\n(.*\n)* {2}- Records\[0\]\.messageId/,
    );
  });

  it("names a missing environment variable", async () => {
    const notify = createNotifierHandler({
      env: { SCOUT_CONFIG_FILE: writeConfig([]), WEBHOOK_SECRET_ARN, EVENTS_QUEUE_URL: QUEUE_URL },
      log: new RecordingLogger(),
    });
    await expect(notify(sqsEvent())).rejects.toThrow(/^environment variable EVENTS_DLQ_URL is not set;/);
  });
});

/*
 * What the notifier tests share: SQS records shaped as Lambda's event source delivers them, a
 * config file with webhook endpoints, and a logger that keeps what it was told.
 */

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events-dlq";
const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:scout-events";
const WEBHOOK_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-webhooks-AbCdEf";

let eventCounter = 0;

/** A status.changed event of customer acme, with a fresh id. */
function scoutEvent(overrides: Partial<ScoutEvent> = {}): ScoutEvent {
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

interface RecordOptions {
  readonly endpointId?: string | undefined;
  readonly body?: string;
  readonly receiveCount?: number;
  readonly sentAtMs?: number;
}

let recordCounter = 0;

/** One SQS record as Lambda's event source hands it over. */
function sqsRecord(event: ScoutEvent | undefined, options: RecordOptions = {}) {
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

function stringAttribute(value: string) {
  return { stringValue: value, stringListValues: [], binaryListValues: [], dataType: "String" };
}

function sqsEvent(...records: ReturnType<typeof sqsRecord>[]) {
  return { Records: records };
}

/** Writes a deploy config with these webhook endpoints; returns its path. */
function writeConfig(
  endpoints: readonly Record<string, unknown>[],
  webhooks: Record<string, unknown> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), "scout-notifier-"));
  dirs.push(dir);
  const file = join(dir, "scout-config.json");
  writeFileSync(
    file,
    JSON.stringify({
      inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }] }],
      webhooks: { ...webhooks, endpoints },
    }),
  );
  return file;
}

class RecordingLogger implements Logger {
  readonly entries: { level: string; message: string; fields: LogFields }[] = [];
  info = (message: string, fields: LogFields = {}) => this.entries.push({ level: "info", message, fields });
  warn = (message: string, fields: LogFields = {}) => this.entries.push({ level: "warn", message, fields });
  error = (message: string, fields: LogFields = {}) => this.entries.push({ level: "error", message, fields });

  /** Everything logged, as one text: to check that no secret ever appears. */
  text(): string {
    return JSON.stringify(this.entries);
  }
}
