import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { EventType, ScoutEvent } from "../../../../core/events/event.ts";
import { partlyKeptOf } from "../../../../core/ports/event-sink.ts";
import type { LogFields } from "../../../../core/ports/logger.ts";
import type { EndpointFilter } from "../../../../core/webhook/routing.ts";
import { EventQueueError, SqsEventSink } from "../../../../lambdas/aws/sqs-event-sink.ts";
import { REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";

useFakeAwsEnvironment();
const sqs = mockClient(SQSClient);
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
beforeEach(() => sqs.reset());

function event(n: number, type: EventType = "check.completed", customer = "default"): ScoutEvent {
  return {
    id: `evt_${String(n).padStart(26, "0")}`,
    type,
    version: 1,
    time: "2026-06-01T00:00:00.000Z",
    customer,
    target: "mx1",
    data: { n },
  };
}

function sink(endpoints: readonly EndpointFilter[], logged: { message: string; fields?: LogFields }[] = []) {
  const note = (message: string, fields?: LogFields) =>
    logged.push({ message, ...(fields ? { fields } : {}) });
  return new SqsEventSink(new SQSClient({ region: REGION }), QUEUE_URL, endpoints, {
    info: note,
    warn: note,
    error: note,
  });
}

/** Every message sent, in order: [event id, endpoint id], with its body parsed. */
function sent() {
  return sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      eventId: entry.MessageAttributes?.eventId?.StringValue,
      endpointId: entry.MessageAttributes?.endpointId?.StringValue,
      eventType: entry.MessageAttributes?.eventType?.StringValue,
      body: entry.MessageBody,
    })),
  );
}

describe("SqsEventSink fans out per endpoint", () => {
  it("queues one message per (event, endpoint that wants it), by type and customer", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const endpoints: EndpointFilter[] = [
      { id: "all" },
      { id: "status-only", events: ["status.changed"] },
      { id: "acme-only", customers: ["acme"] },
      { id: "acme-status", events: ["status.changed"], customers: ["acme"] },
    ];
    const checkOfDefault = event(1, "check.completed", "default");
    const statusOfAcme = event(2, "status.changed", "acme");
    const statusOfOther = event(3, "status.changed", "other");
    await sink(endpoints).publish([checkOfDefault, statusOfAcme, statusOfOther]);
    expect(sent().map((m) => [m.eventId, m.endpointId])).toEqual([
      [checkOfDefault.id, "all"],
      [statusOfAcme.id, "all"],
      [statusOfAcme.id, "status-only"],
      [statusOfAcme.id, "acme-only"],
      [statusOfAcme.id, "acme-status"],
      [statusOfOther.id, "all"],
      [statusOfOther.id, "status-only"],
    ]);
    // The body is the event's JSON, exactly what the notifier will post and sign.
    const first = sent()[0];
    expect(first?.body).toBe(JSON.stringify(checkOfDefault));
    expect(first?.eventType).toBe("check.completed");
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
  });

  it("sends in batches of 10, counting messages rather than events", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    await sink([{ id: "a" }, { id: "b" }]).publish(Array.from({ length: 12 }, (_, i) => event(i)));
    const sizes = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 4]);
    // Entry ids are positions in their batch: unique within it, short whatever the event id.
    for (const call of sqs.commandCalls(SendMessageBatchCommand)) {
      const ids = (call.args[0].input.Entries ?? []).map((entry) => entry.Id);
      expect(ids).toEqual(ids.map((_, index) => String(index)));
    }
  });

  it("queues nothing for an event no endpoint wants, and says so once per type and customer", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const logged: { message: string; fields?: LogFields }[] = [];
    const publisher = sink([{ id: "status-only", events: ["status.changed"] }], logged);
    await publisher.publish([event(1), event(2)]);
    await publisher.publish([event(3)]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(logged).toEqual([
      {
        message: "no webhook endpoint wants these events; they are not queued",
        fields: { type: "check.completed", customer: "default", endpoints: 1 },
      },
    ]);
  });

  it("sends again only the entries SQS did not take", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: "0", MessageId: "m0", MD5OfMessageBody: "x" }],
        Failed: [{ Id: "1", Code: "InternalError", SenderFault: false, Message: "try again" }],
      })
      .resolves({ Failed: [] });
    const events = [event(0), event(1)];
    await sink([{ id: "a" }]).publish(events);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    const retried = calls[1]?.args[0].input.Entries ?? [];
    expect(
      retried.map((e) => [JSON.parse(e.MessageBody ?? "").id, e.MessageAttributes?.endpointId?.StringValue]),
    ).toEqual([[events[1]?.id, "a"]]);
  });

  it("throws, naming the event and its endpoint, when some stay unsent", async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: "1", Code: "InvalidParameterValue", SenderFault: true, Message: "too long" }],
    });
    const publishing = sink([{ id: "a" }, { id: "b" }]).publish([event(0)]);
    await expect(publishing).rejects.toBeInstanceOf(EventQueueError);
    await expect(publishing).rejects.toThrow(
      `1 event delivery message(s) could not be queued on ${QUEUE_URL} after 3 attempts; first: ${event(0).id} for endpoint b: InvalidParameterValue too long`,
    );
    // A sender fault is not retried: it would fail the same way.
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it("says which events were kept when one endpoint's delivery of an event stays unsent", async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: "1", Code: "InvalidParameterValue", SenderFault: true, Message: "too long" }],
    });
    const error = await sink([{ id: "a" }, { id: "b" }])
      .publish([event(0), event(1)])
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EventQueueError);
    // event 0 reached endpoint a, not b; event 1 reached both.
    expect(partlyKeptOf(error)).toEqual({
      incompleteEventIds: new Set([event(0).id]),
      droppedEventIds: new Set(),
    });
  });

  it("keeps what earlier batches queued when a later call fails, and says so", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [] })
      .rejects(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" }));
    const events = Array.from({ length: 12 }, (_, n) => event(n));
    const error = await sink([{ id: "a" }])
      .publish(events)
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EventQueueError);
    expect((error as Error).message).toMatch(
      /^2 event delivery message\(s\) could not be queued on .*: Access to the resource is denied\.;/,
    );
    const late = new Set(events.slice(10).map((e) => e.id));
    expect(partlyKeptOf(error)).toEqual({ incompleteEventIds: late, droppedEventIds: late });
  });

  it("counts what a first attempt queued when the retry's call fails", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [{ Id: "1", Code: "ThrottlingException", SenderFault: false, Message: "slow down" }],
      })
      .rejects(new Error("socket hang up"));
    const error = await sink([{ id: "a" }, { id: "b" }])
      .publish([event(0)])
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EventQueueError);
    expect((error as EventQueueError).failed).toEqual([
      { eventId: event(0).id, endpointId: "b", code: "Error", message: "socket hang up" },
    ]);
    expect(partlyKeptOf(error)).toEqual({
      incompleteEventIds: new Set([event(0).id]),
      droppedEventIds: new Set(),
    });
  });

  it("throws the call's own error when the first call fails: nothing was queued", async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error("connect ETIMEDOUT"));
    const error = await sink([{ id: "a" }])
      .publish([event(0)])
      .catch((thrown: unknown) => thrown);
    expect((error as Error).message).toBe("connect ETIMEDOUT");
    expect(partlyKeptOf(error)).toBeUndefined();
  });

  it("gives up on entries that keep failing after three attempts", async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: "0", Code: "ServiceUnavailable", SenderFault: false, Message: "later" }],
    });
    await expect(sink([{ id: "a" }]).publish([event(0)])).rejects.toThrow(/ServiceUnavailable later$/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });
});
