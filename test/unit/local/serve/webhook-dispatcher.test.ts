import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import type { Logger } from "../../../../core/ports/logger.ts";
import { type RetryPolicy, retryPolicyFor } from "../../../../core/webhook/retry-policy.ts";
import { type OutboxState, SqliteOutbox } from "../../../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import { WebhookDispatcher } from "../../../../local/serve/webhook-dispatcher.ts";
import {
  newWebhookSecret,
  type Reply,
  type Script,
  untilEmitted,
  WebhookReceiver,
} from "../../../support/webhook-receiver.ts";

const SECRET = newWebhookSecret();
/** Fast retries so outages and recoveries fit in a test. */
const FAST: RetryPolicy = retryPolicyFor(3_600, { baseDelayMs: 20, maxDelayMs: 200 });

interface Rig {
  receiver: WebhookReceiver;
  store: SqliteStore;
  outbox: SqliteOutbox;
  dispatcher: WebhookDispatcher;
  logs: string[];
  file: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collectingLogger(logs: string[]): Logger {
  const put = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { info: put("INFO"), warn: put("WARN"), error: put("ERROR") };
}

async function openDispatcher(
  receiver: WebhookReceiver,
  file: string,
  logs: string[],
  policy: RetryPolicy = FAST,
  secret = SECRET,
) {
  const store = await SqliteStore.open(file);
  const endpoints = [{ id: "ops", url: receiver.url, secret: new Secret(secret), timeoutMs: 2_000 }];
  const outbox = new SqliteOutbox(store.db, endpoints, { now: () => Date.now() });
  const dispatcher = new WebhookDispatcher({ outbox, endpoints, policy, log: collectingLogger(logs) });
  dispatcher.start();
  return { store, outbox, dispatcher };
}

async function rig(script?: Script, policy: RetryPolicy = FAST, secret = SECRET): Promise<Rig> {
  const receiver = await WebhookReceiver.start(script);
  const file = join(mkdtempSync(join(tmpdir(), "webhooks-")), "scout.db");
  const logs: string[] = [];
  const parts = await openDispatcher(receiver, file, logs, policy, secret);
  const r: Rig = { receiver, file, logs, ...parts };
  cleanups.push(async () => {
    await r.dispatcher.stop();
    r.store.close();
    await r.receiver.close();
  });
  return r;
}

let counter = 0;
function events(n: number): ScoutEvent[] {
  return Array.from({ length: n }, () => ({
    id: `evt_T${String(++counter).padStart(25, "0")}`,
    type: "check.completed" as const,
    version: 1 as const,
    time: new Date().toISOString(),
    customer: "acme",
    target: "mx1",
    data: { n: counter },
  }));
}

function stateCount(outbox: SqliteOutbox, state: OutboxState): number {
  return outbox.counts()[state];
}

function untilState(r: Pick<Rig, "dispatcher" | "outbox">, state: OutboxState, count: number): Promise<void> {
  return untilEmitted(
    r.dispatcher.events,
    "attempt",
    () => stateCount(r.outbox, state) >= count,
    30_000,
    `${count} ${state}`,
  );
}

describe("WebhookDispatcher", () => {
  it("delivers signed events that the reference verifier accepts, each once to a healthy receiver", async () => {
    const r = await rig();
    const batch = events(20);
    await r.outbox.publish(batch);
    await untilState(r, "delivered", 20);
    expect([...r.receiver.ids()].sort()).toEqual(batch.map((e) => e.id).sort());
    expect(r.receiver.requests).toHaveLength(20);
    for (const request of r.receiver.requests) {
      expect(() =>
        new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>),
      ).not.toThrow();
    }
  });

  it("keeps retrying a receiver that fails the first attempts, and counts them", async () => {
    const r = await rig((_req, index) => (index < 3 ? { status: 503 } : { status: 200 }));
    await r.outbox.publish(events(1));
    await untilState(r, "delivered", 1);
    expect(r.receiver.requests).toHaveLength(4);
    expect(r.outbox.list(["delivered"])[0]).toMatchObject({ attempts: 4, lastStatus: 200 });
    expect(r.logs.some((l) => l.includes("failing; its events are held"))).toBe(true);
    expect(r.logs.some((l) => l.includes("delivering again"))).toBe(true);
  });

  it("retries a receiver that hangs past the timeout", async () => {
    const receiver = await WebhookReceiver.start(
      (_req, index): Reply => (index === 0 ? "hang" : { status: 204 }),
    );
    const file = join(mkdtempSync(join(tmpdir(), "webhooks-")), "scout.db");
    const store = await SqliteStore.open(file);
    const endpoints = [{ id: "ops", url: receiver.url, secret: SECRET, timeoutMs: 300 }];
    const outbox = new SqliteOutbox(store.db, endpoints, { now: () => Date.now() });
    const dispatcher = new WebhookDispatcher({ outbox, endpoints, policy: FAST, log: collectingLogger([]) });
    cleanups.push(async () => {
      await dispatcher.stop();
      store.close();
      await receiver.close();
    });
    const outcomes: string[] = [];
    dispatcher.events.on("attempt", (_row, outcome) =>
      outcomes.push(`${outcome.kind}:${outcome.error ?? ""}`),
    );
    dispatcher.start();
    await outbox.publish(events(1));
    await untilState({ dispatcher, outbox }, "delivered", 1);
    expect(outcomes).toEqual(["retry:timed out after 300 ms", "delivered:"]);
  });

  it("loses nothing while the receiver is down, and delivers every event once it is back on the same port", async () => {
    const r = await rig();
    const port = r.receiver.port;
    await r.receiver.close();
    const batch = events(30);
    await r.outbox.publish(batch);
    // The endpoint has failed, been held, and failed its probe against the closed port.
    await untilEmitted(
      r.dispatcher.events,
      "attempt",
      () => r.outbox.list(["pending"]).some((row) => row.attempts >= 2),
      30_000,
      "a failed probe",
    );
    expect(r.outbox.list(["pending"]).find((row) => row.lastError)?.lastError).toContain("ECONNREFUSED");
    await r.receiver.reopen();
    expect(r.receiver.port).toBe(port);
    await untilState(r, "delivered", 30);
    expect([...r.receiver.ids()].sort()).toEqual(batch.map((e) => e.id).sort());
  });

  it("loses nothing across a restart of the outbox and dispatcher in the middle of an outage", async () => {
    const r = await rig();
    await r.receiver.close();
    const batch = events(25);
    await r.outbox.publish(batch);
    await untilEmitted(
      r.dispatcher.events,
      "attempt",
      () => r.outbox.list(["pending"]).some((row) => row.attempts >= 1),
      30_000,
      "a failed attempt",
    );
    await r.dispatcher.stop();
    r.store.close();
    cleanups.pop();

    await r.receiver.reopen();
    const logs: string[] = [];
    const again = await openDispatcher(r.receiver, r.file, logs);
    cleanups.push(async () => {
      await again.dispatcher.stop();
      again.store.close();
      await r.receiver.close();
    });
    await untilState(again, "delivered", 25);
    expect([...r.receiver.ids()].sort()).toEqual(batch.map((e) => e.id).sort());
    expect(again.outbox.list(["delivered"]).some((row) => row.attempts >= 2)).toBe(true);
  });

  it("on 410 Gone stops the endpoint, keeps its events as gone, logs it, and a redrive resumes", async () => {
    let gone = true;
    const r = await rig(() => (gone ? { status: 410 } : { status: 204 }));
    await r.outbox.publish(events(1));
    await untilState(r, "gone", 1);
    await r.outbox.publish(events(3));
    expect(stateCount(r.outbox, "gone")).toBe(4);
    expect(r.receiver.requests).toHaveLength(1);
    expect(r.logs.find((l) => l.includes("410 Gone"))).toContain(
      "disabled until the monitor restarts or a redrive",
    );
    gone = false;
    expect(r.outbox.redrive({ endpointId: "ops" })).toBe(4);
    await untilState(r, "delivered", 4);
    expect(r.receiver.requests).toHaveLength(5);
  });

  it("records a 400 as rejected and never retries it", async () => {
    const r = await rig(() => ({ status: 400, body: "unknown field" }));
    await r.outbox.publish(events(1));
    await untilState(r, "rejected", 1);
    const [row] = r.outbox.list(["rejected"]);
    expect(row).toMatchObject({ attempts: 1, lastStatus: 400, lastError: "HTTP 400: unknown field" });
    expect(r.outbox.nextDueAfter(0)).toBeUndefined();
    expect(r.logs.some((l) => l.includes("rejected by the receiver; not retried"))).toBe(true);
  });

  it("waits as long as Retry-After says, not the short backoff", async () => {
    const r = await rig((_req, index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 204 },
    );
    await r.outbox.publish(events(1));
    await untilState(r, "delivered", 1);
    const [first, second] = r.receiver.requests;
    expect((second?.arrivedAtMs ?? 0) - (first?.arrivedAtMs ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("keeps an event as failed once it is older than maxAge, and a redrive delivers it", async () => {
    const r = await rig(undefined, retryPolicyFor(1, { baseDelayMs: 20, maxDelayMs: 100 }));
    await r.receiver.close();
    await r.outbox.publish(events(1));
    await untilState(r, "failed", 1);
    const [row] = r.outbox.list(["failed"]);
    expect(row?.lastError).toMatch(/ECONNREFUSED.*not delivered within 1 s/);
    expect(r.logs.some((l) => l.includes("kept as failed"))).toBe(true);
    await r.receiver.reopen();
    expect(r.outbox.redrive()).toBe(1);
    await untilState(r, "delivered", 1);
  });

  it("signs with its own secret: a receiver holding another secret rejects every event", async () => {
    const receiverSecret = newWebhookSecret();
    const r = await rig((request) => {
      try {
        new Webhook(receiverSecret).verify(request.body, request.headers as Record<string, string>);
        return { status: 204 };
      } catch (error) {
        return { status: 401, body: (error as Error).message };
      }
    });
    await r.outbox.publish(events(2));
    await untilState(r, "rejected", 2);
    expect(r.outbox.list(["rejected"])[0]?.lastError).toBe("HTTP 401: No matching signature found");
  });

  it("marks rows of an endpoint no longer configured as failed, naming the fix", async () => {
    const r = await rig();
    const stray = new SqliteOutbox(r.store.db, [{ id: "old-hook" }], { now: () => Date.now() });
    await stray.publish(events(1));
    // The stray row is older, so it is taken (and failed, without an attempt) before this one.
    await r.outbox.publish(events(1));
    await untilState(r, "delivered", 1);
    expect(r.outbox.list(["failed"])[0]?.lastError).toContain(
      "email-scout webhook redrive --endpoint old-hook",
    );
  });

  it("stop() waits for attempts in flight and records them", async () => {
    let answer: (reply: Reply) => void = () => {};
    const answered = new Promise<Reply>((resolve) => {
      answer = resolve;
    });
    const r = await rig(() => answered);
    await r.outbox.publish(events(1));
    await r.receiver.until(() => r.receiver.requests.length === 1);
    expect(r.dispatcher.busy).toBe(1);
    let stopped = false;
    const stopping = r.dispatcher.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    answer({ status: 200 });
    await stopping;
    expect(stateCount(r.outbox, "delivered")).toBe(1);
  });

  it("holds a row whose attempt could not be recorded, instead of sending it again at once", async () => {
    const receiver = await WebhookReceiver.start();
    const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), "webhooks-")), "scout.db"));
    const endpoints = [{ id: "ops", url: receiver.url, secret: new Secret(SECRET), timeoutMs: 2_000 }];
    let nowMs = Date.now();
    const clock = { now: () => nowMs };
    const outbox = new SqliteOutbox(store.db, endpoints, clock);
    const logs: string[] = [];
    const dispatcher = new WebhookDispatcher({
      outbox,
      endpoints,
      policy: FAST,
      log: collectingLogger(logs),
      clock,
      idleCheckMs: 60_000,
    });
    cleanups.push(async () => {
      await dispatcher.stop();
      store.close();
      await receiver.close();
    });
    // The database refuses the first record (a full disk), then recovers.
    const inTransaction = outbox.inTransaction.bind(outbox);
    let refusals = 1;
    outbox.inTransaction = (work) => {
      if (refusals-- > 0) throw new Error("database or disk is full");
      return inTransaction(work);
    };
    dispatcher.start();
    const recordedOnce = untilEmitted(
      dispatcher.events,
      "attempt",
      () => logs.some((line) => line.includes("could not be recorded")),
      30_000,
      "the first attempt, not recorded",
    );
    await outbox.publish(events(1));
    await recordedOnce;
    await new Promise((resolve) => setImmediate(resolve));
    dispatcher.wake();
    await new Promise((resolve) => setImmediate(resolve));
    // Still pending in the outbox, but not taken again before the pause is over.
    expect(dispatcher.busy).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expect(logs.find((line) => line.includes("could not be recorded"))).toContain('"retryInMs":60000');

    nowMs += 60_000;
    dispatcher.wake();
    await untilState({ dispatcher, outbox }, "delivered", 1);
    expect(receiver.requests).toHaveLength(2);
  });
});
