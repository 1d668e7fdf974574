import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { SecretCache, SecretReadError } from "../../../lambdas/adapters/aws/secret-cache.ts";
import { SesMailSender } from "../../../lambdas/adapters/aws/ses-mail-sender.ts";
import { EventQueueError, SqsEventSink } from "../../../lambdas/adapters/aws/sqs-event-sink.ts";
import type { ScoutEvent } from "../../../lambdas/core/events/event.ts";
import { buildProbe } from "../../../lambdas/core/probe-message.ts";
import { REGION, useFakeAwsEnvironment } from "../../support/aws-standins.ts";

useFakeAwsEnvironment();
const ses = mockClient(SESClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  ses.reset();
  sqs.reset();
  secrets.reset();
});

describe("SesMailSender", () => {
  it("sends the probe's bytes as they are, with the envelope as Source and Destinations", async () => {
    ses.on(SendRawEmailCommand).resolves({ MessageId: "0100018f-abc" });
    const probe = await buildProbe({
      probeId: "AAAAAAAAAAAAAAAAAAAAAA",
      targetId: "mx1",
      to: "probe@mx1.example.com",
      from: "scout@scout-returns.example.com",
      inboundDomain: "scout-returns.example.com",
      sentAtMs: Date.parse("2026-06-01T00:00:00Z"),
      key: Buffer.alloc(32, 7),
    });
    const receipt = await new SesMailSender(new SESClient({ region: REGION })).send({
      envelope: probe.envelope,
      raw: probe.raw,
    });
    expect(receipt.response).toBe("SES accepted, MessageId 0100018f-abc");
    const [call] = ses.commandCalls(SendRawEmailCommand);
    expect(call?.args[0].input.Source).toBe("bounces+AAAAAAAAAAAAAAAAAAAAAA@scout-returns.example.com");
    expect(call?.args[0].input.Destinations).toEqual(["probe@mx1.example.com"]);
    expect(Buffer.from(call?.args[0].input.RawMessage?.Data ?? new Uint8Array()).equals(probe.raw)).toBe(
      true,
    );
    expect(probe.raw.toString()).toContain(`X-Scout-Probe: ${probe.token}\r\n`);
  });

  it("lets SES's refusal through, so the core records send-failed with its message", async () => {
    ses
      .on(SendRawEmailCommand)
      .rejects(Object.assign(new Error("Email address is not verified."), { name: "MessageRejected" }));
    await expect(
      new SesMailSender(new SESClient({ region: REGION })).send({
        envelope: { from: "a@b.example", to: ["c@d.example"] },
        raw: Buffer.from("Subject: x\r\n\r\nbody\r\n"),
      }),
    ).rejects.toThrow("Email address is not verified.");
  });
});

function event(n: number): ScoutEvent {
  return {
    id: `evt_${String(n).padStart(26, "0")}`,
    type: "check.completed",
    version: 1,
    time: "2026-06-01T00:00:00.000Z",
    customer: "default",
    target: "mx1",
    data: { n },
  };
}

describe("SqsEventSink", () => {
  const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";

  it("sends events in batches of 10, the event JSON as the body", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await new SqsEventSink(new SQSClient({ region: REGION }), queueUrl).publish(
      Array.from({ length: 23 }, (_, i) => event(i)),
    );
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const first = calls[0]?.args[0].input.Entries?.[0];
    expect(JSON.parse(first?.MessageBody ?? "")).toEqual(event(0));
    expect(first?.MessageAttributes?.eventId?.StringValue).toBe(event(0).id);
    expect(calls[0]?.args[0].input.QueueUrl).toBe(queueUrl);
  });

  it("sends again only the entries SQS did not take", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [{ Id: "1", Code: "InternalError", SenderFault: false, Message: "try again" }],
      })
      .resolves({ Failed: [] });
    await new SqsEventSink(new SQSClient({ region: REGION }), queueUrl).publish([
      event(0),
      event(1),
      event(2),
    ]);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((e) => JSON.parse(e.MessageBody ?? "").id)).toEqual([
      event(1).id,
    ]);
  });

  it("throws, naming the events, when some stay unsent", async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: "0", Code: "InvalidParameterValue", SenderFault: true, Message: "too long" }],
    });
    const publishing = new SqsEventSink(new SQSClient({ region: REGION }), queueUrl).publish([
      event(0),
      event(1),
    ]);
    await expect(publishing).rejects.toBeInstanceOf(EventQueueError);
    await expect(publishing).rejects.toThrow(
      `1 event(s) could not be queued on ${queueUrl} after 3 attempts; first: ${event(0).id}: InvalidParameterValue too long`,
    );
    // A sender fault is not retried: it would fail the same way.
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});

describe("SecretCache", () => {
  const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";

  it("reads a secret once, keeps it for the TTL, then reads it again", async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: "one" }).resolves({ SecretString: "two" });
    let now = 1_000_000;
    const cache = new SecretCache(new SecretsManagerClient({ region: REGION }), 60_000, { now: () => now });
    expect(await Promise.all([cache.get(arn), cache.get(arn)])).toEqual(["one", "one"]);
    now += 59_999;
    expect(await cache.get(arn)).toBe("one");
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += 1;
    expect(await cache.get(arn)).toBe("two");
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe(arn);
  });

  it("keeps using the value held when a refresh fails, and says so", async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: "held" })
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    let now = 0;
    const stale: string[] = [];
    const cache = new SecretCache(
      new SecretsManagerClient({ region: REGION }),
      1_000,
      { now: () => now },
      (id) => stale.push(id),
    );
    await cache.get(arn);
    now = 5_000;
    expect(await cache.get(arn)).toBe("held");
    expect(stale).toEqual([arn]);
  });

  it("names the secret and the fix, never a value, when it cannot be read", async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }));
    const cache = new SecretCache(new SecretsManagerClient({ region: REGION }));
    await expect(cache.get(arn)).rejects.toThrow(
      `cannot read secret ${arn}: AccessDeniedException: not authorized (grant secretsmanager:GetSecretValue on it)`,
    );
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(cache.get(arn)).rejects.toBeInstanceOf(SecretReadError);
    await expect(cache.get(arn)).rejects.toThrow("has no SecretString");
  });
});
