import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import {
  configBaseDir,
  resolveWebhookEndpoints,
  WebhookEndpointError,
} from "../../../../local/serve/webhook-endpoints.ts";
import { newWebhookSecret } from "../../../support/webhook-receiver.ts";

const SECRET = newWebhookSecret();
let dir: string;

function webhooks(endpointsYaml: string[]) {
  const text = [
    "dataDir: data",
    "probeKeyFile: probe.key",
    "inbound: { domain: r.example.com, returnAddress: returns@r.example.com }",
    "targets: [{ id: mx1, endpoints: [{ url: 'smtp://mx1.example.com' }] }]",
    "webhooks:",
    "  endpoints:",
    ...endpointsYaml.map((line) => `    - ${line}`),
  ].join("\n");
  return parseConfigText(text, "scout.yaml").webhooks;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "webhook-endpoints-"));
  mkdirSync(join(dir, "secrets"));
  writeFileSync(join(dir, "secrets", "ops.secret"), `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "secrets", "open.secret"), SECRET, { mode: 0o600 });
  chmodSync(join(dir, "secrets", "open.secret"), 0o640);
  writeFileSync(join(dir, "secrets", "short.secret"), "whsec_c2hvcnQ=", { mode: 0o600 });
});

describe("resolveWebhookEndpoints", () => {
  it("reads each secret relative to the config's folder and converts timeouts to ms", () => {
    const [ops, checks] = resolveWebhookEndpoints(
      webhooks([
        "{ id: ops, url: 'https://hooks.example.com/scout', secretFile: secrets/ops.secret, timeoutSeconds: 2.5 }",
        `{ id: checks, url: 'http://127.0.0.1:8080/', secretFile: ${join(dir, "secrets", "ops.secret")}, events: [check.completed], customers: [acme] }`,
      ]),
      configBaseDir(join(dir, "scout.yaml")),
    );
    expect(ops).toMatchObject({ id: "ops", url: "https://hooks.example.com/scout", timeoutMs: 2_500 });
    expect(ops?.secret.reveal()).toBe(SECRET);
    expect(ops?.events).toBeUndefined();
    expect(checks).toMatchObject({ timeoutMs: 10_000, events: ["check.completed"], customers: ["acme"] });
    expect(inspect(ops)).not.toContain("whsec_");
  });

  it.each([
    [
      "{ id: ops, url: 'https://h.example.com/' }",
      'webhooks.endpoints[0] (id "ops"): secretFile is required in local mode',
    ],
    ["{ id: ops, url: 'https://h.example.com/', secretFile: secrets/none }", "secrets/none does not exist"],
    ["{ id: ops, url: 'https://h.example.com/', secretFile: secrets/open.secret }", "has mode 0640"],
    [
      "{ id: ops, url: 'https://h.example.com/', secretFile: secrets/short.secret }",
      "24 to 64 bytes, this one holds 5",
    ],
    ["{ id: ops, url: 'https://h.example.com/', secretFile: secrets }", "is not a regular file"],
  ])("refuses %s, naming the endpoint and the problem", (line, message) => {
    const error = (() => {
      try {
        resolveWebhookEndpoints(webhooks([line]), dir);
      } catch (e) {
        return e as Error;
      }
      throw new Error("accepted");
    })();
    expect(error).toBeInstanceOf(WebhookEndpointError);
    expect(error.message).toContain(message);
    expect(error.message).toContain('id "ops"');
  });
});
