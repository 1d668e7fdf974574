import { afterEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { scoutEvent, useNotifierFixture } from "../../../support/notifier-fixture.ts";
import {
  awsWebhookShell,
  localWebhookShell,
  type WebhookShell,
} from "../../../support/webhook-hold-shells.ts";

/*
 * Issue 15, point 10, in both shells: an endpoint that fails is backed off as a whole (one
 * request per backoff step, not one per waiting event), and one that answers again gets its
 * whole backlog at once, oldest first, each event once.
 */
useNotifierFixture();

const shells: WebhookShell[] = [];
afterEach(async () => {
  for (const shell of shells.splice(0)) await shell.close();
});

describe.each([
  ["local", localWebhookShell],
  ["aws", awsWebhookShell],
] as const)("%s", (_name, start) => {
  async function failingEndpoint() {
    const state = { down: true };
    const shell = await start(() => (state.down ? { status: 503 } : { status: 204 }));
    shells.push(shell);
    const posted = () => shell.receiver.requests.map((request) => request.headers["webhook-id"]);
    return { shell, state, posted };
  }

  it("a failing endpoint gets one request per backoff step; when it answers, its backlog at once, oldest first", async () => {
    const { shell, state, posted } = await failingEndpoint();
    const events: ScoutEvent[] = Array.from({ length: 6 }, () => scoutEvent());
    await shell.publish(events.slice(0, 1));
    expect(posted()).toEqual([events[0]?.id]);
    // Queued while the endpoint is held: no request of their own.
    await shell.publish(events.slice(1));
    expect(posted()).toHaveLength(1);
    for (let step = 1; step <= 4; step++) await shell.turn();
    // One probe per step, the oldest event.
    expect(posted()).toEqual(Array(5).fill(events[0]?.id));

    state.down = false;
    await shell.turn();
    expect(posted().slice(5)).toEqual(events.map((event) => event.id));
    // Nothing is left to send: a further turn posts nothing.
    await shell.turn();
    expect(posted()).toHaveLength(11);
  });
});
