import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { captureEmf, metricPoints } from "../../../support/emf-capture.ts";

import {
  attribute,
  DAY_MS,
  DLQ_URL,
  deadLetters,
  notifierFor,
  QUEUE_URL,
  SECRET,
  scoutEvent,
  sqsEvent,
  sqsRecord,
  useNotifierFixture,
  visibilityChanges,
} from "../../../support/notifier-fixture.ts";

/* The notifier Lambda: delivered events, and receivers that fail for a while (backoff, Retry-After, age limit). */
useNotifierFixture();

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
  it("503: the endpoint is held; the record is its probe, a batch item failure hidden for the endpoint's first step", async () => {
    const { receiver, notify, log } = await notifierFor(() => ({ status: 503, body: "busy" }));
    // The backoff is the endpoint's (its first failure: up to 1 s), not the message's 5th receive;
    // the test's jitter source gives the middle, 500 ms, which a visibility timeout rounds up to 1 s.
    const record = sqsRecord(scoutEvent(), { receiveCount: 5 });
    const run = await captureEmf(() => notify(sqsEvent(record)));
    expect(run.result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(receiver.requests).toHaveLength(1);
    expect(visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 1 },
    ]);
    expect(deadLetters()).toEqual([]);
    expect(metricPoints(run.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["WebhookRetried", { Endpoint: "hooks" }, 1],
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "webhook endpoint failing; its events are held and retried with backoff",
        fields: expect.objectContaining({
          endpoint: "hooks",
          status: 503,
          attempt: 5,
          failures: 1,
          retryInMs: 500,
        }),
      }),
    );
  });

  it("keeps every step of the hold within 0 and the ceiling for the endpoint's failures", async () => {
    const clock = { nowMs: Date.parse("2026-06-01T00:00:00Z"), now: () => clock.nowMs };
    const { notify } = await notifierFor(() => ({ status: 500 }), {
      random: Math.random,
      handler: { clock },
    });
    const probe = sqsRecord(scoutEvent());
    for (let failures = 1; failures <= 6; failures += 1) {
      const result = await notify(sqsEvent(probe));
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: probe.messageId }]);
      const seconds = visibilityChanges().at(-1)?.VisibilityTimeout ?? -1;
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThanOrEqual(2 ** (failures - 1));
      // The probe comes back when its hold is over.
      clock.nowMs += seconds * 1000;
    }
    expect(visibilityChanges()).toHaveLength(6);
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
    const { notify } = await notifierFor(() => ({ status: 503 }), { webhooks: { maxAgeSeconds: 60 } });
    const fresh = sqsRecord(scoutEvent(), { sentAtMs: Date.now() - 30_000 });
    const old = sqsRecord(scoutEvent(), { sentAtMs: Date.now() - 61_000 });
    const result = await notify(sqsEvent(fresh, old));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: fresh.messageId }] });
    expect(deadLetters().map((moved) => [moved.MessageBody, attribute(moved, "deadLetterReason")])).toEqual([
      [old.body, "expired"],
    ]);
  });
});
