import { once } from "node:events";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { attemptDelivery, MAX_ANSWER_BYTES } from "../../../../core/webhook/attempt.ts";
import { WEBHOOK_USER_AGENT } from "../../../../core/webhook/user-agent.ts";
import { main, VERSION } from "../../../../local/cli/main.ts";
import { makeTestPki } from "../../../support/certs.ts";
import { newWebhookSecret, type Reply, WebhookReceiver } from "../../../support/webhook-receiver.ts";

const SECRET = newWebhookSecret();
const EVENT: ScoutEvent = {
  id: "evt_01JD0000000000000000000000",
  type: "webhook.test",
  version: 1,
  time: new Date().toISOString(),
  customer: "acme",
  target: "",
  data: { message: "hello" },
};

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function answering(reply: Reply) {
  receiver = await WebhookReceiver.start(() => reply);
  return { id: "hook", url: receiver.url, secret: new Secret(SECRET), timeoutMs: 5_000 };
}

describe("attemptDelivery", () => {
  it("POSTs the event JSON with signed Standard Webhooks headers the reference verifier accepts", async () => {
    const target = await answering({ status: 200, body: "ok" });
    const outcome = await attemptDelivery(target, EVENT, Date.now());
    expect(outcome).toMatchObject({ kind: "delivered", status: 200 });
    expect(outcome.error).toBeUndefined();
    const [request] = receiver?.requests ?? [];
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["user-agent"]).toBe(WEBHOOK_USER_AGENT);
    expect(request?.headers["webhook-id"]).toBe(EVENT.id);
    expect(
      new Webhook(SECRET).verify(request?.body ?? "", request?.headers as Record<string, string>),
    ).toEqual(EVENT);
  });

  it("sends a stored event byte for byte, and a plain-string secret works too", async () => {
    const target = await answering({ status: 204 });
    const json = '{"id":"evt_x","type":"check.completed" , "extra":1}';
    const outcome = await attemptDelivery({ ...target, secret: SECRET }, { id: "evt_x", json }, Date.now());
    expect(outcome.kind).toBe("delivered");
    expect(receiver?.requests[0]?.body).toBe(json);
  });

  it.each([
    [500, "retry"],
    [503, "retry"],
    [408, "retry"],
    [429, "retry"],
    [410, "gone"],
    [400, "rejected"],
    [401, "rejected"],
    [404, "rejected"],
  ])("classifies HTTP %i as %s, with the status and the answer's text", async (status, kind) => {
    const target = await answering({ status, body: `  because\n reasons ${status}` });
    const outcome = await attemptDelivery(target, EVENT, Date.now());
    expect(outcome).toMatchObject({ kind, status });
    expect(outcome.error).toContain(`because reasons ${status}`);
  });

  it("says that a 410 means the receiver wants no more events", async () => {
    const outcome = await attemptDelivery(await answering({ status: 410 }), EVENT, Date.now());
    expect(outcome.error).toContain("410 Gone: the receiver asks for no more events");
  });

  it("does not follow redirects: rejected, naming the new URL and the fix", async () => {
    const target = await answering({ status: 301, headers: { location: "https://elsewhere.example/hook" } });
    const outcome = await attemptDelivery(target, EVENT, Date.now());
    expect(outcome).toMatchObject({ kind: "rejected", status: 301 });
    expect(outcome.error).toContain("https://elsewhere.example/hook");
    expect(outcome.error).toContain("configure the final URL");
    expect(receiver?.requests).toHaveLength(1);
  });

  it("reads Retry-After in seconds and as an HTTP date", async () => {
    const seconds = await attemptDelivery(
      await answering({ status: 429, headers: { "retry-after": "120" } }),
      EVENT,
      Date.now(),
    );
    expect(seconds.retryAfterMs).toBe(120_000);
    await receiver?.close();
    const now = Date.now();
    const at = new Date(Math.ceil(now / 1000) * 1000 + 60_000).toUTCString();
    const dated = await attemptDelivery(
      await answering({ status: 503, headers: { "retry-after": at } }),
      EVENT,
      now,
    );
    expect(dated.retryAfterMs).toBeGreaterThanOrEqual(59_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(61_000);
  });

  it("reads at most a small part of a huge answer", async () => {
    const outcome = await attemptDelivery(
      await answering({ status: 400, body: "x".repeat(5_000_000) }),
      EVENT,
      Date.now(),
    );
    expect(outcome.kind).toBe("rejected");
    expect(outcome.error?.length).toBeLessThanOrEqual(200);
    expect(MAX_ANSWER_BYTES).toBeLessThan(5_000_000);
  });

  it("gives up on a receiver that never answers at the timeout, as a retry", async () => {
    const target = { ...(await answering("hang")), timeoutMs: 300 };
    const started = Date.now();
    const outcome = await attemptDelivery(target, EVENT, Date.now());
    expect(outcome).toMatchObject({ kind: "retry", error: "timed out after 300 ms" });
    expect(outcome.status).toBeUndefined();
    expect(outcome.durationMs).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("treats a refused connection and a dropped one as retries", async () => {
    const target = await answering("destroy");
    const dropped = await attemptDelivery(target, EVENT, Date.now());
    expect(dropped.kind).toBe("retry");
    expect(dropped.error).toBeTruthy();
    await receiver?.close();
    const refused = await attemptDelivery(target, EVENT, Date.now());
    expect(refused).toMatchObject({ kind: "retry" });
    expect(refused.error).toContain("ECONNREFUSED");
  });

  it("speaks HTTPS and checks the receiver's certificate: an untrusted one is a retry, nothing sent", async () => {
    const pki = await makeTestPki();
    let requests = 0;
    const server = createHttpsServer({ cert: pki.selfSigned.cert, key: pki.selfSigned.key }, (_q, r) => {
      requests++;
      r.writeHead(204).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const url = `https://localhost:${(server.address() as AddressInfo).port}/hook`;
      const outcome = await attemptDelivery(
        { id: "tls", url, secret: SECRET, timeoutMs: 5_000 },
        EVENT,
        Date.now(),
      );
      expect(outcome.kind).toBe("retry");
      expect(outcome.error).toContain("SELF_SIGNED");
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });

  it("announces the same version as the CLI", async () => {
    const out: string[] = [];
    await main(["version"], { stdout: (t) => out.push(t), stderr: () => {}, env: {} });
    expect(WEBHOOK_USER_AGENT).toBe(`email-scout/${VERSION}`);
    expect(out).toEqual([VERSION]);
  });
});
