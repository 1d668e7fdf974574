import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { buildProbe } from "../../../../core/roundtrip/probe-message.ts";
import { SecretCache, SecretReadError } from "../../../../lambdas/aws/secret-cache.ts";
import { SesMailSender } from "../../../../lambdas/aws/ses-mail-sender.ts";
import { REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";

useFakeAwsEnvironment();
const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  ses.reset();
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
