import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../core/basics/secret.ts";
import { ConfigError } from "../../core/config/config-error.ts";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { attemptDelivery } from "../../core/webhook/attempt.ts";
import { redactUrl } from "../../core/webhook/redact-url.ts";
import { retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import type { LookupAll } from "../../core/webhook/target-address.ts";
import { SqliteOutbox } from "../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../local/adapters/sqlite-store.ts";
import { main } from "../../local/cli/main.ts";
import { WebhookDispatcher } from "../../local/serve/webhook-dispatcher.ts";
import { capturedIo } from "../support/captured-io.ts";
import { newWebhookSecret, untilEmitted, WebhookReceiver } from "../support/webhook-receiver.ts";

// Issue 15, point 7: webhook targets on link-local, metadata and unspecified addresses are
// refused unless the endpoint allows them; credentials in a webhook URL are never shown.

const SECRET = newWebhookSecret();
const EVENT = { id: "evt_01JDQ8X7W1T3M6V2ZC4K9N5RHF", json: "{}" };
const PASSWORD = "s3cret-pa55";

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

/** A resolver stub: every name resolves to `addresses`, whatever DNS says. */
function resolvingTo(...addresses: string[]): LookupAll {
  return (_hostname, _options, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
    );
}

function configWithWebhook(endpoint: Record<string, unknown>): string[] {
  const config = {
    dataDir: "/var/lib/scout",
    probeKeyFile: "/etc/scout/probe.key",
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [
      { id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }], probe: { to: "probe@mx1.example.com" } },
    ],
    webhooks: { endpoints: [{ id: "ops", secretFile: "ops.whsec", ...endpoint }] },
  };
  try {
    parseConfigText(JSON.stringify(config), "scout.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** Literal hosts and what they are; every form the WHATWG parser reads as the same address. */
const REFUSED_URLS: ReadonlyArray<[string, string]> = [
  ["http://169.254.169.254/latest/meta-data/", "a cloud metadata address"],
  ["http://2852039166/", "a cloud metadata address"],
  ["http://0xa9fea9fe/", "a cloud metadata address"],
  ["http://0251.0376.0251.0376/", "a cloud metadata address"],
  ["http://[::ffff:169.254.169.254]/", "a cloud metadata address"],
  ["http://[::ffff:a9fe:a9fe]/", "a cloud metadata address"],
  ["http://[fd00:ec2::254]/", "a cloud metadata address (AWS IPv6)"],
  ["https://169.254.1.1:8443/hook", "a link-local address (RFC 3927)"],
  ["http://[fe80::1]/", "a link-local address (RFC 4291)"],
  ["http://[febf::1]/", "a link-local address (RFC 4291)"],
  ["http://0.0.0.0:8080/", "an unspecified address (RFC 1122)"],
  ["http://0/", "an unspecified address (RFC 1122)"],
  ["http://[::]/", "an unspecified address (RFC 4291)"],
];

const ALLOWED_URLS = [
  "http://127.0.0.1:9000/hook",
  "http://[::1]:9000/hook",
  "http://10.1.2.3/hook",
  "http://192.168.1.20/hook",
  "http://172.16.0.9/hook",
  "https://hooks.example.com/x",
  "http://169.253.255.255/",
  "http://[fec0::1]/",
];

describe("webhook targets: link-local, metadata and unspecified addresses", () => {
  it.each(REFUSED_URLS)("config refuses %s (%s), naming the key and the fix", (url, kind) => {
    const [problem, ...others] = configWithWebhook({ url });
    expect(others).toEqual([]);
    expect(problem).toMatch(/^webhooks\.endpoints\[0\]\.url: points at /);
    expect(problem).toContain(kind);
    expect(problem).toContain("allowLinkLocalAddresses: true");
  });

  it.each(ALLOWED_URLS)("config accepts %s (loopback, RFC 1918 and public addresses need no flag)", (url) => {
    expect(configWithWebhook({ url })).toEqual([]);
  });

  it("config accepts a refused address when the endpoint allows it explicitly", () => {
    expect(configWithWebhook({ url: "http://169.254.169.254/", allowLinkLocalAddresses: true })).toEqual([]);
  });

  it.each(REFUSED_URLS)("an attempt to %s is rejected before connecting (%s)", async (url, kind) => {
    const outcome = await attemptDelivery(
      { id: "ops", url, secret: SECRET, timeoutMs: 2_000 },
      EVENT,
      Date.now(),
    );
    expect(outcome).toMatchObject({ kind: "rejected", durationMs: 0 });
    expect(outcome.error).toContain(kind);
  });

  it.each([
    [["169.254.169.254"], "a cloud metadata address"],
    [["::ffff:169.254.169.254"], "a cloud metadata address"],
    [["fd00:ec2::254"], "a cloud metadata address (AWS IPv6)"],
    [["fe80::1"], "a link-local address"],
    [["0.0.0.0"], "an unspecified address"],
    // DNS rebinding: one good address does not make a bad one acceptable.
    [["127.0.0.1", "169.254.169.254"], "a cloud metadata address"],
  ])("a name resolving to %j is refused at connect time, never reached", async (addresses, kind) => {
    receiver = await WebhookReceiver.start();
    const url = `http://rebound.example.test:${receiver.port}/hook`;
    const outcome = await attemptDelivery(
      { id: "ops", url, secret: SECRET, timeoutMs: 2_000 },
      EVENT,
      Date.now(),
      {
        resolveAll: resolvingTo(...addresses),
      },
    );
    expect(outcome.kind).toBe("rejected");
    expect(outcome.error).toContain(`rebound.example.test resolves to ${addresses.at(-1)}, ${kind}`);
    expect(receiver.requests).toHaveLength(0);
  });

  it("a name resolving to loopback is delivered (local receivers need no flag)", async () => {
    receiver = await WebhookReceiver.start();
    const url = `http://receiver.example.test:${receiver.port}/hook`;
    const outcome = await attemptDelivery(
      { id: "ops", url, secret: SECRET, timeoutMs: 2_000 },
      EVENT,
      Date.now(),
      {
        resolveAll: resolvingTo("127.0.0.1"),
      },
    );
    expect(outcome.kind).toBe("delivered");
    expect(receiver.requests).toHaveLength(1);
  });

  it("an endpoint that allows link-local addresses is not refused (the attempt goes out)", async () => {
    const outcome = await attemptDelivery(
      {
        id: "ops",
        url: "http://169.254.169.254:9/",
        secret: SECRET,
        timeoutMs: 200,
        allowLinkLocalAddresses: true,
      },
      EVENT,
      Date.now(),
    );
    // Whatever the network then does (no route, a timeout, a proxy's answer), it is not the guard.
    expect(outcome.error ?? "").not.toContain("allowLinkLocalAddresses");
  });
});

describe("webhook targets: credentials in a URL are never shown", () => {
  it.each([
    ["https://alice:s3cret@hooks.example.com/x?y=1", "https://***:***@hooks.example.com/x?y=1"],
    ["https://token123@hooks.example.com/", "https://***@hooks.example.com/"],
    ["http://:s3cret@127.0.0.1:8/", "http://:***@127.0.0.1:8/"],
    ["https://hooks.example.com/x", "https://hooks.example.com/x"],
    ["not a url //user:pw@host", "not a url //***@host"],
  ])("redactUrl(%s) is %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  function secretFile(): string {
    const file = join(mkdtempSync(join(tmpdir(), "scout-webhook-security-")), "hook.whsec");
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return file;
  }

  async function webhookTest(url: string) {
    const { out, io } = capturedIo();
    const code = await main(
      ["webhook", "test", "--url", url, "--secret-file", secretFile(), "--deadline", "1", "--timeout", "1"],
      io,
    );
    return { code, ...out };
  }

  it("`webhook test` uses the password but never prints it, delivered or not", async () => {
    receiver = await WebhookReceiver.start();
    const delivered = await webhookTest(`http://scout:${PASSWORD}@127.0.0.1:${receiver.port}/hook`);
    expect(delivered.code).toBe(0);
    expect(receiver.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`scout:${PASSWORD}`).toString("base64")}`,
    );
    expect(delivered.stdout).toContain(`http://***:***@127.0.0.1:${receiver.port}/hook`);
    for (const url of [
      `http://scout:${PASSWORD}@169.254.169.254/`,
      `http://scout:${PASSWORD}@127.0.0.1:9/hook`,
      `ftp://scout:${PASSWORD}@127.0.0.1/`,
    ]) {
      const result = await webhookTest(url);
      expect(result.code).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD);
    }
  });

  it("the dispatcher's logs and outbox never hold the password of a failing or redirecting endpoint", async () => {
    receiver = await WebhookReceiver.start(() => ({
      status: 302,
      headers: { location: `https://scout:${PASSWORD}@elsewhere.example.com/` },
      body: `moved to https://scout:${PASSWORD}@elsewhere.example.com/`,
    }));
    const store = await SqliteStore.open(
      join(mkdtempSync(join(tmpdir(), "scout-webhook-security-")), "scout.db"),
    );
    const endpoints = [
      {
        id: "moved",
        url: `http://scout:${PASSWORD}@127.0.0.1:${receiver.port}/hook`,
        secret: new Secret(SECRET),
        timeoutMs: 2_000,
      },
      {
        id: "metadata",
        url: `http://scout:${PASSWORD}@169.254.169.254/`,
        secret: new Secret(SECRET),
        timeoutMs: 2_000,
      },
      {
        id: "down",
        url: `http://scout:${PASSWORD}@127.0.0.1:9/`,
        secret: new Secret(SECRET),
        timeoutMs: 2_000,
      },
    ];
    const outbox = new SqliteOutbox(store.db, endpoints, { now: () => Date.now() });
    const logs: string[] = [];
    const put = (level: string) => (message: string, fields?: Record<string, unknown>) =>
      logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    const log: Logger = { info: put("INFO"), warn: put("WARN"), error: put("ERROR") };
    const dispatcher = new WebhookDispatcher({ outbox, endpoints, policy: retryPolicyFor(3_600), log });
    try {
      dispatcher.start();
      await outbox.publish([
        {
          id: "evt_01JDQ8X7W1T3M6V2ZC4K9N5RHG",
          type: "webhook.test",
          version: 1,
          time: new Date().toISOString(),
          customer: "acme",
          target: "",
          data: {},
        },
      ]);
      await untilEmitted(
        dispatcher.events,
        "attempt",
        () => logs.length >= 3,
        10_000,
        "three logged attempts",
      );
      const kept = JSON.stringify(outbox.list());
      expect(kept).toContain("***");
      expect(kept).toContain("cloud metadata address");
      expect(`${logs.join("\n")}${kept}`).not.toContain(PASSWORD);
    } finally {
      await dispatcher.stop();
      store.close();
    }
  });
});
