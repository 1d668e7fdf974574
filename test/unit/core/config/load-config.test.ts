import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError } from "../../../../core/config/config-error.ts";
import { loadConfigFile } from "../../../../core/config/load-config.ts";

const dir = mkdtempSync(join(tmpdir(), "scout-load-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INBOUND = { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" };

/** Writes data as YAML under a fresh name in the test folder; returns the path. */
let files = 0;
function write(data: unknown): string {
  files += 1;
  const path = join(dir, `config-${files}.yaml`);
  writeFileSync(path, stringify(data));
  return path;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfigFile, local shape (serve and the CLI)", () => {
  it("takes relative paths from the file's folder and leaves absolute ones alone", () => {
    const path = write({
      dataDir: "data",
      probeKeyFile: "/etc/scout/probe.key",
      inbound: { ...INBOUND, tls: { certFile: "tls/cert.pem", keyFile: "tls/key.pem" } },
      outbound: { relay: { host: "relay.example.com", user: "scout", passwordFile: "relay.pw" } },
      dashboard: {
        tokenFile: "dashboard.token",
        tls: { certFile: "web/cert.pem", keyFile: "web/key.pem" },
        prometheusProbe: {
          modules: {
            mail: { caFile: "ca.pem", login: { user: "u", passwordFile: "probe.pw" }, allowedHosts: ["mx1"] },
          },
        },
      },
      webhooks: { endpoints: [{ id: "ops", url: "https://ops.example.com/hook", secretFile: "ops.secret" }] },
      targets: [
        {
          id: "mx1",
          endpoints: [
            {
              url: "imaps://mx1.example.com",
              caFile: "ca.pem",
              login: { user: "u", passwordFile: "mx1.pw" },
            },
          ],
          probe: { to: "probe@mx1.example.com", keyFile: "keys/mx1.key" },
        },
      ],
    });
    const config = loadConfigFile(path, "local");
    expect(config.dataDir).toBe(join(dir, "data"));
    expect(config.probeKeyFile).toBe("/etc/scout/probe.key");
    expect(config.inbound.tls).toEqual({
      certFile: join(dir, "tls/cert.pem"),
      keyFile: join(dir, "tls/key.pem"),
    });
    expect(config.outbound.relay?.passwordFile).toBe(join(dir, "relay.pw"));
    expect(config.dashboard.tokenFile).toBe(join(dir, "dashboard.token"));
    expect(config.dashboard.tls).toEqual({
      certFile: join(dir, "web/cert.pem"),
      keyFile: join(dir, "web/key.pem"),
    });
    expect(config.dashboard.prometheusProbe?.modules.mail).toMatchObject({
      caFile: join(dir, "ca.pem"),
      login: { passwordFile: join(dir, "probe.pw") },
    });
    expect(config.webhooks.endpoints[0]?.secretFile).toBe(join(dir, "ops.secret"));
    expect(config.targets[0]?.endpoints[0]).toMatchObject({
      caFile: join(dir, "ca.pem"),
      login: { passwordFile: join(dir, "mx1.pw") },
    });
    expect(config.targets[0]?.probe?.keyFile).toBe(join(dir, "keys/mx1.key"));
  });

  it("wants the local-only keys", () => {
    const path = write({
      inbound: INBOUND,
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }] }],
    });
    expect(problemsOf(() => loadConfigFile(path, "local"))).toEqual([
      "dataDir: is required",
      "probeKeyFile: is required",
    ]);
  });

  it("names the file it cannot read, as a ConfigError", () => {
    const path = join(dir, "absent.yaml");
    expect(() => loadConfigFile(path, "local")).toThrow(ConfigError);
    expect(() => loadConfigFile(path, "local")).toThrow(
      `${path}: invalid configuration\n  - cannot read the Email Scout config ${path} (ENOENT)`,
    );
  });
});

describe("loadConfigFile, AWS shape (the CDK app and the Lambdas)", () => {
  it("needs no local-only keys and keeps paths as written", () => {
    const path = write({
      inbound: INBOUND,
      targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com", caFile: "ca.pem" }] }],
    });
    const config = loadConfigFile(path, "aws");
    expect(config.dataDir).toBeUndefined();
    expect(config.targets[0]?.endpoints[0]?.caFile).toBe("ca.pem");
  });

  it("applies the AWS rules from the schema, each naming its key, with the shared rules", () => {
    const path = write({
      inbound: INBOUND,
      outbound: {
        from: "monitor@example.org",
        dkim: { domain: "example.org", selector: "s1", privateKeyFile: "dkim.pem" },
      },
      roundTrip: { warningSeconds: 200 },
      targets: [
        {
          id: "mx1",
          endpoints: [
            { url: "imaps://mx1.example.com", login: { user: "u", passwordFile: "/etc/scout/imap.pw" } },
            {
              url: "pop3s://mx1.example.com",
              login: {
                user: "u",
                passwordFile: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pop-AbC",
              },
            },
          ],
          probe: { to: "probe@mx1.example.com", keyFile: "/etc/scout/mx1.key" },
        },
        {
          id: "mx2",
          probe: {
            to: "probe@mx2.example.com",
            keyFile: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout/keys/mx2",
          },
        },
      ],
    });
    expect(problemsOf(() => loadConfigFile(path, "aws"))).toEqual([
      "roundTrip.warningSeconds: must not exceed criticalSeconds",
      "outbound.from: must be at the inbound domain scout-returns.example.com on AWS: SES sends only from the identity this stack verifies",
      "outbound.dkim: is for local mode: on AWS, SES signs every probe with the domain identity's Easy DKIM key",
      "targets[0].probe.keyFile: on AWS this must be the ARN of a Secrets Manager secret holding the target's probe key file (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
      "targets[0].endpoints[0].login.passwordFile: on AWS this must be the ARN of a Secrets Manager secret holding the password (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
    ]);
  });

  it("leaves the AWS rules out of the local shape", () => {
    const path = write({
      dataDir: "data",
      probeKeyFile: "probe.key",
      inbound: INBOUND,
      outbound: { from: "monitor@example.org" },
      targets: [
        {
          id: "mx1",
          endpoints: [{ url: "imaps://mx1.example.com", login: { user: "u", passwordFile: "pw" } }],
        },
      ],
    });
    expect(loadConfigFile(path, "local").outbound.from).toBe("monitor@example.org");
  });

  it("adds the shell's hint when the file cannot be read", () => {
    const path = join(dir, "absent.json");
    expect(() => loadConfigFile(path, "aws", { hint: "set SCOUT_CONFIG_FILE" })).toThrow(
      `cannot read the Email Scout config ${path} (ENOENT): set SCOUT_CONFIG_FILE`,
    );
  });
});
