import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { Secret } from "../../core/basics/secret.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import { retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { SqliteOutbox } from "../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { WebhookDispatcher } from "../../local/serve/webhook-dispatcher.ts";
import { captureEmf } from "./emf-capture.ts";
import { EventsQueueStandIn } from "./events-queue-standin.ts";
import { DLQ_URL, notifierFor, QUEUE_URL, SECRET } from "./notifier-fixture.ts";
import { type Script, untilEmitted, WebhookReceiver } from "./webhook-receiver.ts";

/*
 * The webhook delivery of both shells behind one small interface, so one suite shows that a
 * guarantee of one holds in the other: local mode's dispatcher over its SQLite outbox, and the
 * AWS notifier over an events queue kept in memory and the holds table on dynalite. Both post
 * over real HTTP to a receiver on port 0, on a manual clock, with the jitter source at 0.5.
 * The AWS shell needs useNotifierFixture() registered in the calling file.
 */

export interface WebhookShell {
  readonly name: "local" | "aws";
  readonly receiver: WebhookReceiver;
  /** Queues events for the endpoint "hooks", in this order, a millisecond apart. */
  publish(events: readonly ScoutEvent[]): Promise<void>;
  /**
   * One turn: the clock moves to when something is next due (never back), and the shell does
   * what it does then; resolves when its attempts are over.
   */
  turn(): Promise<void>;
  close(): Promise<void>;
}

export const START_MS = Date.parse("2026-06-01T00:00:00Z");

export async function localWebhookShell(script: Script): Promise<WebhookShell> {
  const dir = mkdtempSync(join(tmpdir(), "scout-hold-local-"));
  const store = await SqliteStore.open(join(dir, "scout.db"));
  const receiver = await WebhookReceiver.start(script);
  const clock = { nowMs: START_MS, now: () => clock.nowMs };
  const endpoints = [{ id: "hooks", url: receiver.url, secret: new Secret(SECRET), timeoutMs: 5_000 }];
  const outbox = new SqliteOutbox(store.db, endpoints, clock);
  const dispatcher = new WebhookDispatcher({
    outbox,
    endpoints,
    policy: retryPolicyFor(86_400),
    clock,
    random: () => 0.5,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  dispatcher.start();
  const immediates = async (n: number) => {
    for (let turn = 0; turn < n; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  /** Until no attempt is in flight and none starts in the turns that follow. */
  const quiet = async () => {
    for (let round = 0; round < 100; round++) {
      await immediates(5);
      if (dispatcher.busy === 0) return;
      await untilEmitted(dispatcher.events, "attempt", () => dispatcher.busy === 0, 20_000, "attempts over");
    }
    throw new Error("the dispatcher never went quiet");
  };
  return {
    name: "local",
    receiver,
    async publish(events) {
      for (const event of events) {
        await outbox.publish([event]);
        clock.nowMs += 1;
      }
      await quiet();
    },
    async turn() {
      const next = outbox.nextDueAfter(clock.nowMs - 1);
      if (next !== undefined && next > clock.nowMs) clock.nowMs = next;
      dispatcher.wake();
      await quiet();
    },
    async close() {
      await dispatcher.stop();
      store.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function awsWebhookShell(script: Script): Promise<WebhookShell> {
  const clock = { nowMs: START_MS, now: () => clock.nowMs };
  const queue = new EventsQueueStandIn(clock, QUEUE_URL, DLQ_URL);
  const { receiver, notify } = await notifierFor(script, { handler: { sqs: queue.client, clock } });
  const receive = async () => {
    const records = queue.receive();
    if (records.length === 0) return;
    const { result } = await captureEmf(() => notify({ Records: records }, undefined as Context | undefined));
    queue.settle(records, result);
  };
  return {
    name: "aws",
    receiver,
    async publish(events) {
      for (const event of events) {
        queue.send(event, "hooks");
        clock.nowMs += 1;
      }
      await receive();
    },
    async turn() {
      const next = queue.nextVisibleAtMs();
      if (next !== undefined && next > clock.nowMs) clock.nowMs = next;
      await receive();
    },
    async close() {
      queue.restore();
      // The receiver is closed by the notifier fixture.
    },
  };
}
