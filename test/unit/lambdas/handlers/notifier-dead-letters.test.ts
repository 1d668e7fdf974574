import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createNotifierHandler } from "../../../../lambdas/handlers/notifier.ts";
import {
  attribute,
  DAY_MS,
  DLQ_URL,
  deadLetters,
  notifierFor,
  QUEUE_URL,
  scoutEvent,
  sqs,
  sqsEvent,
  sqsRecord,
  useNotifierFixture,
  visibilityChanges,
  WEBHOOK_SECRET_ARN,
  writeConfig,
} from "../../../support/notifier-fixture.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";
import { newWebhookSecret } from "../../../support/webhook-receiver.ts";

/* The notifier Lambda: what retrying cannot fix goes to the dead-letter queue with its reason. */
useNotifierFixture();

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
