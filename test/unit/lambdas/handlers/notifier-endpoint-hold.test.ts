import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { DEFAULT_RETRY_POLICY } from "../../../../core/webhook/retry-policy.ts";
import { captureEmf } from "../../../support/emf-capture.ts";
import { EventsQueueStandIn } from "../../../support/events-queue-standin.ts";
import {
  DLQ_URL,
  holdsDynamo,
  notifierFor,
  QUEUE_URL,
  scoutEvent,
  useNotifierFixture,
} from "../../../support/notifier-fixture.ts";

/*
 * Issue 15, point 10, on AWS: a failing endpoint is backed off as a whole, and gets its backlog
 * in order as soon as it answers again. The notifier runs against the webhook holds table on
 * dynalite, an events queue kept in memory on a manual clock (visibility timeouts, deletes of
 * what the handler did not fail), and a real HTTP receiver that fails until told otherwise.
 */
useNotifierFixture();

const queues: EventsQueueStandIn[] = [];
afterEach(() => {
  for (const queue of queues.splice(0)) queue.restore();
});

/** With the fixture's jitter source (0.5): the n-th failed probe holds the endpoint this long. */
function holdMs(failures: number): number {
  return Math.floor(0.5 * Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, 1000 * 2 ** (failures - 1)));
}

async function rig(options: { maxAgeSeconds?: number } = {}) {
  const clock = { nowMs: Date.parse("2026-06-01T00:00:00Z"), now: () => clock.nowMs };
  const state = { down: true };
  const queue = new EventsQueueStandIn(clock, QUEUE_URL, DLQ_URL);
  queues.push(queue);
  const { receiver, notify, holdsTable, log } = await notifierFor(
    () => (state.down ? { status: 503, body: "down for maintenance" } : { status: 204 }),
    {
      handler: { sqs: queue.client, clock },
      ...(options.maxAgeSeconds ? { webhooks: { maxAgeSeconds: options.maxAgeSeconds } } : {}),
    },
  );
  const events: ScoutEvent[] = [];
  /** Queues `n` events a millisecond apart, so their queued order is their order here. */
  const publish = (n: number) => {
    for (let index = 0; index < n; index += 1) {
      const event = scoutEvent();
      events.push(event);
      queue.send(event, "hooks");
      clock.nowMs += 1;
    }
  };
  /**
   * One turn of the event source: the clock moves to the next message's visibility (never back),
   * the visible messages are handed to the notifier, and what it did not fail is deleted.
   */
  const step = async (context?: Pick<Context, "getRemainingTimeInMillis">) => {
    const next = queue.nextVisibleAtMs();
    if (next !== undefined && next > clock.nowMs) clock.nowMs = next;
    const records = queue.receive();
    // captureEmf keeps the metrics' EMF lines off the test output.
    const { result: response } = await captureEmf(() =>
      notify({ Records: records }, context as Context | undefined),
    );
    queue.settle(records, response);
    return records.length;
  };
  /** Steps until the queue is empty; a bounded number of turns, so a message that never leaves fails the test. */
  const drain = async () => {
    for (let turn = 0; queue.depth > 0; turn += 1) {
      if (turn === 50) throw new Error(`the queue still holds ${queue.depth} messages after 50 turns`);
      await step();
    }
  };
  const parkedIds = async () => {
    const { Items = [] } = await holdsDynamo().client.send(new ScanCommand({ TableName: holdsTable }));
    return Items.filter((item) => item.sk?.S?.startsWith("parked#")).map(
      (item) => JSON.parse(item.body?.S ?? "{}").id as string,
    );
  };
  const posted = () => receiver.requests.map((request) => request.headers["webhook-id"] as string);
  return { clock, state, queue, receiver, log, notify, events, publish, step, drain, parkedIds, posted };
}

describe("an endpoint that fails", () => {
  it("gets one request per backoff step, not one per queued event; new events are parked", async () => {
    const { clock, queue, events, publish, step, parkedIds, posted } = await rig();
    publish(1);
    await step();
    // The first failure held the endpoint; its message is the probe, hidden for the first step.
    expect(posted()).toEqual([events[0]?.id]);
    expect(queue.nextVisibleAtMs()).toBe(clock.nowMs + Math.ceil(holdMs(1) / 1000) * 1000);

    publish(5);
    await step();
    // Parked in the table and deleted from the queue, without a request of their own.
    expect(posted()).toHaveLength(1);
    expect(await parkedIds()).toEqual(events.slice(1).map((event) => event.id));
    expect(queue.depth).toBe(1);

    const hiddenFor: number[] = [];
    for (let failures = 2; failures <= 6; failures += 1) {
      await step();
      hiddenFor.push((queue.nextVisibleAtMs() ?? 0) - clock.nowMs);
    }
    // One request per step, always the probe, each step longer than the one before.
    expect(posted()).toEqual(Array(6).fill(events[0]?.id));
    expect(hiddenFor).toEqual([2, 3, 4, 5, 6].map((failures) => Math.ceil(holdMs(failures) / 1000) * 1000));
    expect(queue.depth).toBe(1);
    expect(await parkedIds()).toHaveLength(5);
  });
});

describe("an endpoint that answers again", () => {
  it("gets every held event at the probe's success, oldest first, each once, in that one invocation", async () => {
    const { state, queue, events, publish, step, parkedIds, posted, log } = await rig();
    publish(1);
    await step();
    publish(7);
    await step();
    await step(); // a second failed probe
    state.down = false;
    await step();
    expect(posted().slice(2)).toEqual(events.map((event) => event.id));
    expect(posted().slice(0, 2)).toEqual([events[0]?.id, events[0]?.id]);
    expect(queue.depth).toBe(0);
    expect(await parkedIds()).toEqual([]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: "webhook endpoint delivering again; its parked events are sent",
        fields: expect.objectContaining({ released: 7, requeued: 0 }),
      }),
    );
    // Back to normal: a new event goes out at once, with no hold in the way.
    publish(1);
    await step();
    expect(posted().at(-1)).toBe(events.at(-1)?.id);
  });

  it("puts back on the queue what the invocation has no time to post; it goes out on the next turn", async () => {
    const { state, queue, events, publish, step, parkedIds, posted } = await rig();
    publish(1);
    await step();
    publish(6);
    await step();
    state.down = false;
    // Time for the probe and two parked events, then the Lambda's remaining time runs short.
    let looks = 0;
    await step({ getRemainingTimeInMillis: () => (++looks <= 2 ? 300_000 : 1_000) });
    expect(posted().slice(1)).toEqual(events.slice(0, 3).map((event) => event.id));
    expect(await parkedIds()).toEqual([]);
    expect(queue.depth).toBe(4);
    await step();
    expect(posted().slice(1).sort()).toEqual(events.map((event) => event.id).sort());
    expect(new Set(posted().slice(1)).size).toBe(events.length);
    expect(queue.depth).toBe(0);
  });
});

describe("nothing is lost between the table and the queue", () => {
  it("a park that cannot be written keeps the message queued; it is delivered after the recovery", async () => {
    const { state, queue, events, publish, step, drain, parkedIds, posted } = await rig();
    publish(1);
    await step();
    const failParks = holdsDynamo().client.middlewareStack;
    let refuse = true;
    failParks.add(
      (next, context) => async (args) => {
        const parking =
          /^Put/.test(context.commandName ?? "") && JSON.stringify(args.input).includes('"parked#');
        if (refuse && parking) {
          throw Object.assign(new Error("ProvisionedThroughputExceededException"), {
            name: "InternalServerError",
          });
        }
        return next(args);
      },
      { step: "initialize", name: "refuseParks" },
    );
    try {
      publish(3);
      await step();
      expect(await parkedIds()).toEqual([]);
      expect(queue.depth).toBe(4); // the probe and the three that could not be parked
    } finally {
      refuse = false;
      failParks.remove("refuseParks");
    }
    state.down = false;
    await drain();
    expect(posted().slice(1).sort()).toEqual(events.map((event) => event.id).sort());
    expect(new Set(posted().slice(1)).size).toBe(events.length);
  });

  it("an invocation that dies after parking, before SQS deleted, parks the same events once", async () => {
    const { clock, state, queue, events, publish, step, drain, notify, parkedIds, posted } = await rig();
    publish(1);
    await step();
    publish(4);
    // The invocation parks the four, then dies: the event source deletes nothing.
    await captureEmf(() => notify({ Records: queue.receive() }));
    expect(await parkedIds()).toHaveLength(4);
    expect(queue.depth).toBe(5);
    // They come back after the queue's visibility timeout, still held: parked again, one item each.
    clock.nowMs += 360_000;
    await step();
    expect(await parkedIds()).toEqual(events.slice(1).map((event) => event.id));
    expect(queue.depth).toBe(1);
    state.down = false;
    await drain();
    expect(posted().filter((id) => id !== events[0]?.id)).toEqual(events.slice(1).map((event) => event.id));
    expect(await parkedIds()).toEqual([]);
  });
});

describe("the age limit", () => {
  it("parked events past webhooks.maxAgeSeconds go to the dead-letter queue as expired at the next failed probe", async () => {
    const { queue, events, publish, step, drain, parkedIds, posted } = await rig({ maxAgeSeconds: 60 });
    publish(1);
    await step();
    publish(3);
    await step();
    expect(await parkedIds()).toHaveLength(3);
    // Probes fail until the parked events are older than a minute; then they, and at its next
    // failure the probe itself, are moved aside.
    await drain();
    expect(await parkedIds()).toEqual([]);
    const expired = queue.deadLetters.map((letter) => ({
      id: letter.MessageAttributes?.eventId?.StringValue,
      reason: letter.MessageAttributes?.deadLetterReason?.StringValue,
      error: letter.MessageAttributes?.lastError?.StringValue,
    }));
    expect(expired.map((letter) => letter.id).sort()).toEqual(events.map((event) => event.id).sort());
    expect(expired.every((letter) => letter.reason === "expired")).toBe(true);
    expect(expired.find((letter) => letter.id === events[1]?.id)?.error).toMatch(
      /^not delivered within 60 s: the endpoint kept failing \(HTTP 503/,
    );
    // The parked ones never had a request of their own: the probe stood for them.
    expect(new Set(posted())).toEqual(new Set([events[0]?.id]));
    expect(queue.depth).toBe(0);
  });
});
