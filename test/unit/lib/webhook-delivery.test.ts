import { describe, expect, it } from "vitest";
import { parseDeployConfigText } from "../../../core/config/parse-config.ts";
import { expectedReceives, notifierTimeoutSeconds } from "../../../lib/config/webhook-delivery.ts";
import { EVENTS_MAX_RECEIVE_COUNT } from "../../../lib/constructs/events-queue.ts";

function config(webhooks: Record<string, unknown>) {
  return parseDeployConfigText(
    JSON.stringify({
      inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }] }],
      webhooks,
    }),
    "test",
  );
}

describe("the notifier's timeout", () => {
  it("is a minute while endpoints answer within their default 10 s", () => {
    expect(notifierTimeoutSeconds(config({}))).toBe(60);
    expect(
      notifierTimeoutSeconds(config({ endpoints: [{ id: "a", url: "https://a.example.com/hook" }] })),
    ).toBe(60);
  });

  it("outlasts the slowest endpoint's timeout, since a batch's deliveries run side by side", () => {
    const slow = config({
      endpoints: [
        { id: "a", url: "https://a.example.com/hook", timeoutSeconds: 5 },
        { id: "b", url: "https://b.example.com/hook", timeoutSeconds: 59.5 },
      ],
    });
    expect(notifierTimeoutSeconds(slow)).toBe(90);
  });
});

describe("the events queue's receive limit", () => {
  it("leaves the default day of retries more than twice the attempts it needs", () => {
    // 11 attempts to reach the 10-minute ceiling, then one per 5 minutes on average.
    expect(expectedReceives(86_400)).toBe(11 + 288);
    expect(expectedReceives(86_400) * 2).toBeLessThanOrEqual(EVENTS_MAX_RECEIVE_COUNT);
  });

  it("cannot cover a week of retries: the stack warns of that case", () => {
    expect(expectedReceives(7 * 86_400) * 2).toBeGreaterThan(EVENTS_MAX_RECEIVE_COUNT);
  });
});
