import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SqliteOutbox } from "../../../../local/adapters/sqlite-outbox.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import { main } from "../../../../local/cli/main.ts";
import { DATABASE_FILE } from "../../../../local/serve/monitor.ts";
import { capturedIo } from "../../../support/captured-io.ts";
import { newWebhookSecret, type Reply, WebhookReceiver } from "../../../support/webhook-receiver.ts";

let dir: string;
let secretFile: string;
let configFile: string;
const SECRET = newWebhookSecret();

function run(args: string[]) {
  const { out, io } = capturedIo();
  return main(args, io).then((code) => ({ code, ...out }));
}

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "scout-webhook-cli-"));
  secretFile = join(dir, "hook.secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  configFile = join(dir, "scout.yaml");
  writeFileSync(
    configFile,
    [
      "dataDir: data",
      "probeKeyFile: probe.key",
      "inbound: { domain: scout-returns.example.com, returnAddress: returns@scout-returns.example.com }",
      "targets:",
      "  - id: mx1",
      '    endpoints: [{ url: "smtp://mx1.example.com" }]',
      "webhooks:",
      "  endpoints:",
      "    - { id: ops, url: http://127.0.0.1:9/hook, secretFile: hook.secret }",
      "",
    ].join("\n"),
  );
});

/** `email-scout webhook test` against `url`, signed with the test secret. */
function testWebhook(url: string, ...extra: string[]) {
  return run(["webhook", "test", "--url", url, "--secret-file", secretFile, ...extra]);
}

async function receiverAnswering(reply: (index: number) => Reply) {
  receiver = await WebhookReceiver.start((_request, index) => reply(index));
  return receiver;
}

describe("email-scout webhook test", () => {
  it("delivers a signed webhook.test event and exits 0", async () => {
    const r = await receiverAnswering(() => ({ status: 204 }));
    const result = await testWebhook(r.url, "--customer", "acme");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/attempt 1: HTTP 204 in \d+ ms: delivered/);
    const [request] = r.requests;
    const event = new Webhook(SECRET).verify(request?.body ?? "", request?.headers as Record<string, string>);
    expect(event).toMatchObject({ type: "webhook.test", customer: "acme", target: "", version: 1 });
    expect(JSON.stringify(result)).not.toContain(SECRET.slice(6));
  });

  it("retries a failing receiver with backoff, printing each answer", async () => {
    const r = await receiverAnswering((index) =>
      index === 0 ? { status: 503, body: "busy" } : { status: 200 },
    );
    const result = await testWebhook(r.url);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/attempt 1: HTTP 503 in \d+ ms: HTTP 503: busy; retrying in \d\.\d s/);
    expect(result.stdout).toMatch(/attempt 2: HTTP 200 .*delivered/);
  });

  it.each([
    [400, "refused it"],
    [410, "is gone (410)"],
  ])("exits 1 at once on HTTP %i", async (status, message) => {
    const r = await receiverAnswering(() => ({ status }));
    const result = await testWebhook(r.url);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(r.requests).toHaveLength(1);
  });

  it("exits 1 when the receiver refuses connections until the deadline", async () => {
    const r = await receiverAnswering(() => ({ status: 204 }));
    await r.close();
    const result = await testWebhook(r.url, "--deadline", "1.5");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("ECONNREFUSED");
    expect(result.stderr).toContain("not delivered within the 1.5 s deadline");
  });

  it.each([
    [["webhook", "test", "--secret-file", "x"], "--url URL is required"],
    [["webhook", "test", "--url", "ftp://x", "--secret-file", "x"], "must be an http:// or https:// URL"],
    [["webhook", "test", "--url", "http://x"], "--secret-file FILE is required"],
    [["webhook", "test", "--url", "http://x", "--secret-file", "/nonexistent/s"], "does not exist"],
    [["webhook", "test", "--url", "http://x", "--secret-file", "S", "--timeout", "0"], "--timeout must be"],
    [["webhook", "list"], "--config FILE is required"],
    [["webhook", "frobnicate"], 'unknown subcommand "frobnicate"'],
    [["webhook", "test", "--secret", "whsec_x"], "Unknown option '--secret'"],
  ])("rejects %j with a clear message (exit 2)", async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("refuses a secret file others may read, and a malformed secret", async () => {
    const open = join(dir, "open.secret");
    writeFileSync(open, SECRET);
    chmodSync(open, 0o644);
    const openResult = await run(["webhook", "test", "--url", "http://127.0.0.1:9/", "--secret-file", open]);
    expect(openResult.code).toBe(2);
    expect(openResult.stderr).toContain(`chmod 600 ${open}`);
    const bad = join(dir, "bad.secret");
    writeFileSync(bad, "hunter2", { mode: 0o600 });
    const badResult = await run(["webhook", "test", "--url", "http://127.0.0.1:9/", "--secret-file", bad]);
    expect(badResult.code).toBe(2);
    expect(badResult.stderr).toContain('must start with "whsec_"');
    expect(badResult.stderr).not.toContain("hunter2");
  });
});

describe("email-scout webhook list and redrive", () => {
  it("says how to start the monitor when there is no outbox yet", async () => {
    const result = await run(["webhook", "list", "--config", configFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("email-scout serve --config");
  });

  it("lists the outbox by state, as text and JSON, and redrives by endpoint and event", async () => {
    const store = await SqliteStore.open(join(dir, "data", DATABASE_FILE));
    const outbox = new SqliteOutbox(store.db, [{ id: "ops" }], { now: () => Date.now() });
    const event = (id: string) => ({
      id,
      type: "check.completed" as const,
      version: 1 as const,
      time: new Date().toISOString(),
      customer: "default",
      target: "mx1",
      data: {},
    });
    await outbox.publish([event("evt_A"), event("evt_B"), event("evt_C")]);
    outbox.markFailed(
      { eventId: "evt_A", endpointId: "ops" },
      503,
      "HTTP 503; not delivered within 86400 s",
      Date.now(),
    );
    outbox.markRejected({ eventId: "evt_B", endpointId: "ops" }, 400, "HTTP 400", Date.now());
    store.close();

    const failed = await run(["webhook", "list", "--config", configFile, "--state", "failed"]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain("pending 1, delivered 0, failed 1, rejected 1, gone 0");
    expect(failed.stdout).toMatch(
      /^failed +ops +evt_A check\.completed +attempts 1 .* HTTP 503 HTTP 503; not delivered/m,
    );
    expect(failed.stdout).not.toContain("evt_B");

    const json = await run(["webhook", "list", "--config", configFile, "--json"]);
    const rows = JSON.parse(json.stdout) as Array<{ eventId: string; state: string; event: { id: string } }>;
    expect(rows.map((r) => `${r.eventId}:${r.state}`).sort()).toEqual([
      "evt_A:failed",
      "evt_B:rejected",
      "evt_C:pending",
    ]);
    expect(rows[0]?.event.id).toBe(rows[0]?.eventId);

    const badState = await run(["webhook", "list", "--config", configFile, "--state", "lost"]);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain(
      '--state "lost" is not one of pending, delivered, failed, rejected, gone',
    );

    const one = await run(["webhook", "redrive", "--config", configFile, "--event", "evt_B"]);
    expect(one.stdout).toContain("queued 1 event again");
    const unknown = await run(["webhook", "redrive", "--config", configFile, "--endpoint", "nope"]);
    expect(unknown.stderr).toContain('endpoint "nope" is not in the config (configured: ops)');
    expect(unknown.stdout).toContain("nothing to redrive");
    const rest = await run(["webhook", "redrive", "--config", configFile, "--endpoint", "ops"]);
    expect(rest.stdout).toContain("queued 1 event again");
    const pending = await run(["webhook", "list", "--config", configFile, "--state", "pending", "--json"]);
    expect((JSON.parse(pending.stdout) as unknown[]).length).toBe(3);
  });

  it("is listed in the main help", async () => {
    const result = await run(["--help"]);
    expect(result.stdout).toContain("webhook test|list|redrive");
    const help = await run(["help", "webhook"]);
    expect(help.stdout).toContain("webhook redrive --config FILE");
  });
});
