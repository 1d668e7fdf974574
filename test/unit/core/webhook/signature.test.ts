import { inspect } from "node:util";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import {
  parseWebhookSecret,
  signWebhook,
  WebhookSecretError,
  webhookKey,
} from "../../../../core/webhook/signature.ts";

// The spec's own example (standard-webhooks/libraries test vectors).
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

describe("signWebhook", () => {
  it("matches the spec's published example", () => {
    const headers = signWebhook(webhookKey(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
    expect(headers).toEqual({
      "webhook-id": SPEC_ID,
      "webhook-timestamp": String(SPEC_TIMESTAMP),
      "webhook-signature": SPEC_SIGNATURE,
    });
  });

  it("is accepted by the independent standardwebhooks verifier", () => {
    const body = JSON.stringify({ id: "evt_1", type: "webhook.test", data: { message: "héllo" } });
    const headers = signWebhook(webhookKey(SECRET), "evt_1", Date.now() / 1000, body);
    expect(new Webhook(SECRET).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it.each([
    ["a tampered body", (h: Record<string, string>, b: string) => ({ h, b: b.replace("1", "2") })],
    [
      "a tampered signature",
      (h: Record<string, string>, b: string) => ({
        h: { ...h, "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` },
        b,
      }),
    ],
    [
      "a moved timestamp",
      (h: Record<string, string>, b: string) => ({
        h: { ...h, "webhook-timestamp": String(Number(h["webhook-timestamp"]) - 1) },
        b,
      }),
    ],
    ["another id", (h: Record<string, string>, b: string) => ({ h: { ...h, "webhook-id": "evt_2" }, b })],
  ])("is rejected by the verifier after %s", (_what, tamper) => {
    const body = JSON.stringify({ id: "evt_1", n: 1 });
    const headers = signWebhook(webhookKey(SECRET), "evt_1", Date.now() / 1000, body);
    const { h, b } = tamper({ ...headers }, body);
    expect(() => new Webhook(SECRET).verify(b, h)).toThrow(WebhookVerificationError);
  });

  it("is rejected by the verifier when signed with another secret", () => {
    const other = `whsec_${Buffer.alloc(32, 8).toString("base64")}`;
    const headers = signWebhook(webhookKey(other), "evt_1", Date.now() / 1000, "{}");
    expect(() => new Webhook(SECRET).verify("{}", { ...headers })).toThrow("No matching signature");
  });

  it("refuses ids with a dot, which would make the signed text ambiguous", () => {
    expect(() => signWebhook(webhookKey(SECRET), "a.b", 1, "{}")).toThrow('must not contain "."');
  });
});

describe("webhook secrets", () => {
  it.each([
    ["no prefix", Buffer.alloc(32).toString("base64"), 'must start with "whsec_"'],
    ["not base64", "whsec_not*base64!", "must be standard base64"],
    ["too short", `whsec_${Buffer.alloc(16).toString("base64")}`, "24 to 64 bytes, this one holds 16"],
    ["too long", `whsec_${Buffer.alloc(65).toString("base64")}`, "24 to 64 bytes, this one holds 65"],
    ["empty", "", 'must start with "whsec_"'],
  ])("rejects %s with a message that says how to make one", (_what, text, message) => {
    const error = (() => {
      try {
        parseWebhookSecret(text);
      } catch (e) {
        return e as Error;
      }
      throw new Error("accepted a bad secret");
    })();
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect(error.message).toContain(message);
    expect(error.message).toContain("randomBytes(32)");
  });

  it("accepts 24 and 64 bytes, trims a trailing newline, and never shows the secret", () => {
    expect(webhookKey(`whsec_${Buffer.alloc(24).toString("base64")}`)).toHaveLength(24);
    expect(webhookKey(new Secret(`whsec_${Buffer.alloc(64).toString("base64")}`))).toHaveLength(64);
    const secret = parseWebhookSecret(`${SECRET}\n`);
    expect(secret.reveal()).toBe(SECRET);
    expect(`${secret} ${JSON.stringify({ secret })} ${inspect(secret)}`).not.toContain("whsec_");
  });
});
