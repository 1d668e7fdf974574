import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { SecretCache, SecretReadError } from "../../../../lambdas/aws/secret-cache.ts";
import { REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";

useFakeAwsEnvironment();
const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  secrets.reset();
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
