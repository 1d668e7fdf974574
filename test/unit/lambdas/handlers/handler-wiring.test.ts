import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseDeployConfigText } from "../../../../core/config/parse-config.ts";
import { planChecks } from "../../../../core/cycle/check-plan.ts";
import { formatProbeKeyRing } from "../../../../core/wire/probe-key.ts";
import { SecretCache } from "../../../../lambdas/aws/secret-cache.ts";
import { configPath } from "../../../../lambdas/runtime/config-path.ts";
import { deployConfigFileText } from "../../../../lambdas/runtime/deploy-config-file.ts";
import { requiredEnv } from "../../../../lambdas/runtime/env.ts";
import { createBaseRuntime } from "../../../../lambdas/runtime/lambda-basics.ts";
import { readLoginPasswords } from "../../../../lambdas/runtime/login-passwords.ts";
import { createRuntime } from "../../../../lambdas/runtime/runtime.ts";
import { REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";
import { writeLambdaConfig } from "../../../support/lambda-config.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

useFakeAwsEnvironment();
const secrets = mockClient(SecretsManagerClient);
const dir = mkdtempSync(join(tmpdir(), "scout-wiring-"));
afterEach(() => secrets.reset());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:imap-login-XyZ123";
const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";

function config(endpoint: Record<string, unknown>) {
  return parseDeployConfigText(
    JSON.stringify({
      inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
      targets: [{ id: "mx1", endpoints: [endpoint] }],
    }),
    "test",
  );
}

describe("where the config is read from", () => {
  it("defaults to scout-config.json at the bundle root, and takes a relative SCOUT_CONFIG_FILE from there", () => {
    expect(configPath({ LAMBDA_TASK_ROOT: "/var/task" })).toBe("/var/task/scout-config.json");
    expect(configPath({ LAMBDA_TASK_ROOT: "/var/task", SCOUT_CONFIG_FILE: "conf/a.json" })).toBe(
      "/var/task/conf/a.json",
    );
    expect(configPath({ LAMBDA_TASK_ROOT: "/var/task", SCOUT_CONFIG_FILE: "/opt/a.json" })).toBe(
      "/opt/a.json",
    );
  });

  it("names the path and the fix when the file is missing", () => {
    const env = { SCOUT_CONFIG_FILE: join(dir, "absent.json") };
    expect(() => createBaseRuntime({ env, log: new RecordingLogger() })).toThrow(
      `cannot read the Email Scout config ${join(dir, "absent.json")} (ENOENT): the stack copies it into the bundle; set SCOUT_CONFIG_FILE if it lives elsewhere`,
    );
  });

  it("names a missing environment variable", () => {
    expect(() => requiredEnv("PROBES_TABLE", {})).toThrow(/^environment variable PROBES_TABLE is not set;/);
    expect(() => requiredEnv("PROBES_TABLE", { PROBES_TABLE: "  " })).toThrow(/PROBES_TABLE is not set/);
  });
});

describe("the config file the CDK app writes (deploy-config-file.ts)", () => {
  const minimal = {
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }] }],
  };
  let files = 0;
  /** Writes the file as the CDK app would, then lets `edit` spoil it; returns the cold start's error. */
  function coldStartWith(edit: (file: Record<string, unknown>) => unknown): string {
    files += 1;
    const path = join(dir, `config-${files}.json`);
    writeLambdaConfig(path, minimal);
    const edited = edit(JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>);
    writeFileSync(path, typeof edited === "string" ? edited : JSON.stringify(edited));
    try {
      createBaseRuntime({ env: { SCOUT_CONFIG_FILE: path }, log: new RecordingLogger() });
    } catch (error) {
      return String((error as Error).message).replaceAll(path, "<file>");
    }
    return "";
  }

  it("reads back the config the schema accepted, defaults filled in", () => {
    const path = join(dir, "as-written.json");
    const written = writeLambdaConfig(path, minimal);
    const { config } = createBaseRuntime({ env: { SCOUT_CONFIG_FILE: path }, log: new RecordingLogger() });
    expect(config).toEqual(written);
    expect(config.schedule).toEqual({ intervalSeconds: 60, checkConcurrency: 16 });
  });

  it.each([
    [
      "a config not written by the CDK app (the YAML's JSON)",
      () => minimal,
      "<file>: invalid configuration\n  - configVersion: is missing: not the config the Email Scout CDK app writes at synth ({configVersion, sha256, config}); change the YAML config and deploy again (cdk deploy writes this file)",
    ],
    [
      "another build's format",
      (file: Record<string, unknown>) => ({ ...file, configVersion: 2 }),
      "<file>: invalid configuration\n  - configVersion: is 2, this build reads 1: the functions and their config come from one cdk deploy; deploy again",
    ],
    [
      "a config changed after synth",
      (file: Record<string, unknown>) => ({ ...file, config: { ...(file.config as object), targets: [] } }),
      "<file>: invalid configuration\n  - sha256: does not match the config: it was changed after cdk synth wrote it; change the YAML config and deploy again (cdk deploy writes this file)",
    ],
    [
      "text that is not JSON",
      () => "inbound:\n  domain: x\n",
      "<file>: invalid configuration\n  - not JSON (",
    ],
  ])("fails the cold start on %s, naming the file", (_name, edit, message) => {
    expect(coldStartWith(edit)).toContain(message);
  });

  it("names each key this build reads that a file of the right version and hash lacks", () => {
    const message = coldStartWith((file) => {
      const config = {
        ...(file.config as Record<string, unknown>),
        schedule: undefined,
        targets: [{ id: 7 }],
      };
      return deployConfigFileText(config as never);
    });
    expect(message).toBe(
      "<file>: invalid configuration\n  - config.schedule: is required\n  - config.targets[0].id: must be a string of at least 1 characters\n  - config.targets[0].endpoints: is required",
    );
  });
});

describe("the probe key rings from Secrets Manager", () => {
  const OWN_KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-key-mx2-AbCdEf";

  function runtime(log: RecordingLogger = new RecordingLogger()) {
    const file = join(dir, "scout-config.json");
    writeLambdaConfig(file, {
      inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
      targets: [
        { id: "mx1", probe: { to: "probe@mx1.example.com" } },
        { id: "mx2", probe: { to: "probe@mx2.example.com", keyFile: OWN_KEY_ARN } },
        { id: "mx3", endpoints: [{ url: "smtp://mx3.example.com" }] },
      ],
    });
    return createRuntime({
      env: {
        SCOUT_CONFIG_FILE: file,
        PROBES_TABLE: "probes",
        RESULTS_TABLE: "results",
        PROBE_KEY_SECRET_ARN: KEY_ARN,
      },
      secretsManager: new SecretsManagerClient({ region: REGION }),
      log,
    });
  }

  it("gives each probe target its own secret's ring, the others the global one (a version 1 file reads as key v1)", async () => {
    const key = Buffer.alloc(32, 9);
    const own = Buffer.alloc(32, 10);
    secrets
      .on(GetSecretValueCommand, { SecretId: KEY_ARN })
      .resolves({ SecretString: `# a comment\nscout-key-v1:${key.toString("base64url")}\n` });
    secrets
      .on(GetSecretValueCommand, { SecretId: OWN_KEY_ARN })
      .resolves({ SecretString: formatProbeKeyRing([{ id: "mx2-a", key: own }]) });
    const rings = await runtime().probeKeys();
    expect([...rings.keys()]).toEqual(["mx1", "mx2"]);
    expect(rings.get("mx1")).toEqual([{ id: "v1", key }]);
    expect(rings.get("mx2")).toEqual([{ id: "mx2-a", key: own }]);
  });

  it("says which secret holds a bad key, without its value", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: "scout-key-v1:c2hvcnQ" });
    const error = await runtime()
      .probeKeys()
      .catch((caught: Error) => caught);
    expect(String(error)).toMatch(
      /^Error: the probe key ring in secret arn:aws:secretsmanager:\S+: line 1: the probe key is 5 bytes, at least 32 are needed$/,
    );
    expect(String(error)).not.toContain("c2hvcnQ");
  });
});

describe("login passwords on AWS", () => {
  it("reads each password from the secret its ARN names, once, and never shows it", async () => {
    secrets.on(GetSecretValueCommand, { SecretId: PASSWORD_ARN }).resolves({ SecretString: "hunter2\n" });
    const read = await readLoginPasswords(
      config({ url: "imaps://mx1.example.com", login: { user: "probe", passwordFile: PASSWORD_ARN } }),
      new SecretCache(new SecretsManagerClient({ region: REGION })),
    );
    const password = read(PASSWORD_ARN);
    expect(password.reveal()).toBe("hunter2");
    expect(String(password)).toBe("[redacted]");
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("plans the check with the password from the secret and the login mechanism named", async () => {
    secrets.on(GetSecretValueCommand, { SecretId: PASSWORD_ARN }).resolves({ SecretString: "hunter2" });
    const deployConfig = config({
      url: "imaps://mx1.example.com",
      login: { user: "probe", passwordFile: PASSWORD_ARN, mechanism: "scram-sha-256" },
    });
    const read = await readLoginPasswords(
      deployConfig,
      new SecretCache(new SecretsManagerClient({ region: REGION })),
    );
    const [planned] = planChecks(deployConfig, read);
    expect(planned?.options.credentials?.mechanism).toBe("SCRAM-SHA-256");
    expect(planned?.options.credentials?.password.reveal()).toBe("hunter2");
  });

  it("refuses a file path, saying what to give instead", async () => {
    await expect(
      readLoginPasswords(
        config({
          url: "imaps://mx1.example.com",
          login: { user: "probe", passwordFile: "/etc/scout/imap.pw" },
        }),
        new SecretCache(new SecretsManagerClient({ region: REGION })),
      ),
    ).rejects.toThrow(
      "targets[0].endpoints[0].login.passwordFile: on AWS this must be the ARN of a Secrets Manager secret holding the password",
    );
  });
});

describe("the open relay test on AWS", () => {
  it("reaches the planned check from the deploy config, with the addresses given", async () => {
    const deployConfig = config({
      url: "smtp://mx1.example.com",
      openRelayTest: { sender: "someone@outside.example.org" },
    });
    const read = await readLoginPasswords(
      deployConfig,
      new SecretCache(new SecretsManagerClient({ region: REGION })),
    );
    const [planned] = planChecks(deployConfig, read);
    expect(planned?.options.relayTest).toEqual({
      sender: "someone@outside.example.org",
      recipient: "relay-test@example.com",
    });
  });
});
