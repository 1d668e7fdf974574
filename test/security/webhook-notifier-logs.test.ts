import { describe, expect, it } from "vitest";
import {
  deadLetters,
  notifierFor,
  scoutEvent,
  sqsEvent,
  sqsRecord,
  useNotifierFixture,
} from "../support/notifier-fixture.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

// Issue 15, point 7, on AWS: the notifier logs and dead-letters a webhook URL's credentials as "***".

useNotifierFixture();
const PASSWORD = "s3cret-pa55";

describe("the notifier never logs a webhook URL's credentials", () => {
  it.each([
    ["410 Gone", { status: 410 }],
    [
      "a redirect to a URL with a password",
      { status: 307, headers: { location: `https://scout:${PASSWORD}@b.example.com/` } },
    ],
    [
      "a 503 quoting the URL",
      { status: 503, body: `busy, try https://scout:${PASSWORD}@a.example.com/ later` },
    ],
  ])("%s: used to sign in, kept out of the log and the dead-letter queue", async (_case, reply) => {
    const receiver = await WebhookReceiver.start(() => reply);
    try {
      const url = `http://scout:${PASSWORD}@127.0.0.1:${receiver.port}/hook`;
      const { log, notify } = await notifierFor(() => ({ status: 204 }), { endpoint: { url } });
      await notify(sqsEvent(sqsRecord(scoutEvent())));
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]?.headers.authorization).toContain("Basic ");
      expect(log.entries.length).toBeGreaterThan(0);
      expect(`${log.text()}${JSON.stringify(deadLetters())}`).not.toContain(PASSWORD);
    } finally {
      await receiver.close();
    }
  });
});
