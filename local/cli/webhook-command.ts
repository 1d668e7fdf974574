import { parseArgs } from "node:util";
import type { Secret } from "../../core/basics/secret.ts";
import { ConfigError } from "../../core/config/config-error.ts";
import { loadConfigFile } from "../../core/config/load-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { webhookTestEvent } from "../../core/events/webhook-test.ts";
import { HTTP_WEBHOOK_POSTER } from "../../core/webhook/attempt.ts";
import { redactUrl } from "../../core/webhook/redact-url.ts";
import { decideRetry, retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { OUTBOX_STATES, type OutboxRow, type OutboxState, SqliteOutbox } from "../adapters/sqlite-outbox.ts";
import { readWebhookSecretFile, WebhookEndpointError } from "../serve/webhook-endpoints.ts";
import type { CommandIo } from "./io.ts";
import { UsageError } from "./io.ts";
import { withMonitorDatabase } from "./monitor-database.ts";

export const WEBHOOK_HELP = `Usage: email-scout webhook <test|list|redrive> [options]

  webhook test --url URL --secret-file FILE [--timeout S] [--deadline S] [--customer C] [--message TEXT]
      Sends one signed "webhook.test" event to URL, retrying with backoff as the monitor does,
      and prints every attempt and its answer. Exit 0 once delivered, 1 if not delivered by
      the deadline (default 30 s) or refused for good (4xx, 410, a redirect).
      --timeout S    per attempt (default 10)
      --allow-link-local   also send to link-local, metadata and unspecified addresses
      A password in the URL (https://user:pass@host/) is used, never printed.
  webhook list --config FILE [--state STATE[,STATE]] [--json] [--limit N]
      The local outbox: events per endpoint and their delivery state (pending, delivered,
      failed, rejected, gone); the newest first, all states unless --state is given.
  webhook redrive --config FILE [--endpoint ID] [--event ID]
      Queues failed, rejected and gone events again (all, or one endpoint's, or one event's)
      with a fresh retry window; a running monitor sends them within seconds.

Secrets are read from files only ("whsec_" and base64 of 24-64 bytes, mode 0600), never from
the command line. See docs/webhooks.md.
`;

type Values = ReturnType<typeof parse>["values"];

export async function webhookCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`email-scout webhook: ${(error as Error).message}; see email-scout webhook --help`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(WEBHOOK_HELP);
    return 0;
  }
  const [verb, ...extra] = positionals;
  try {
    if (extra.length > 0) throw new UsageError(`unexpected argument "${redactUrl(extra[0] ?? "")}"`);
    if (verb === "test") return await testEndpoint(values, io);
    if (verb === "list") return await listOutbox(values, io);
    if (verb === "redrive") return await redrive(values, io);
    throw new UsageError(verb ? `unknown subcommand "${redactUrl(verb)}"` : "expected test, list or redrive");
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`email-scout webhook: ${error.message}\n\n${WEBHOOK_HELP}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof WebhookEndpointError) {
      io.stderr(`email-scout webhook: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      url: { type: "string" },
      "secret-file": { type: "string" },
      timeout: { type: "string" },
      deadline: { type: "string" },
      customer: { type: "string" },
      message: { type: "string" },
      "allow-link-local": { type: "boolean" },
      config: { type: "string", short: "c" },
      state: { type: "string" },
      json: { type: "boolean" },
      limit: { type: "string" },
      endpoint: { type: "string" },
      event: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}

async function testEndpoint(values: Values, io: CommandIo): Promise<number> {
  if (!values.url) throw new UsageError("--url URL is required");
  if (!/^https?:\/\//i.test(values.url))
    throw new UsageError(`--url must be an http:// or https:// URL, not "${redactUrl(values.url)}"`);
  if (!values["secret-file"])
    throw new UsageError("--secret-file FILE is required (the endpoint's whsec_ secret)");
  const timeoutMs = positiveSeconds(values.timeout, "--timeout", 10, 60) * 1000;
  const deadlineMs = positiveSeconds(values.deadline, "--deadline", 30, 3600) * 1000;
  const secret: Secret = readWebhookSecretFile(values["secret-file"], "--secret-file");
  const startedMs = Date.now();
  const event = webhookTestEvent({
    now: startedMs,
    customer: values.customer ?? "default",
    message: values.message ?? "Test event from email-scout webhook test",
  });
  const policy = retryPolicyFor(deadlineMs / 1000);
  io.stdout(`sending ${event.type} ${event.id} to ${redactUrl(values.url)}`);
  for (let attempt = 1; ; attempt++) {
    const remainingMs = startedMs + deadlineMs - Date.now();
    if (remainingMs <= 0) break;
    const target = {
      id: "test",
      url: values.url,
      secret,
      timeoutMs: Math.min(timeoutMs, remainingMs),
      allowLinkLocalAddresses: values["allow-link-local"] === true,
    };
    const outcome = await HTTP_WEBHOOK_POSTER.attempt(target, event, Date.now());
    const answer = `${outcome.status === undefined ? "no answer" : `HTTP ${outcome.status}`} in ${outcome.durationMs} ms`;
    const said = outcome.error ? `: ${outcome.error}` : "";
    if (outcome.kind === "delivered") {
      io.stdout(`attempt ${attempt}: ${answer}: delivered`);
      return 0;
    }
    if (outcome.kind !== "retry") {
      io.stdout(`attempt ${attempt}: ${answer}${said}`);
      io.stderr(
        `not delivered: ${outcome.kind === "gone" ? "the receiver is gone (410)" : outcome.status === undefined ? "the address is refused" : "the receiver refused it"}; not retried`,
      );
      return 1;
    }
    const nowMs = Date.now();
    const decision = decideRetry({ attempts: attempt, queuedAtMs: startedMs, nowMs, outcome }, policy);
    if (decision.action === "give-up" || decision.atMs >= startedMs + deadlineMs) {
      io.stdout(`attempt ${attempt}: ${answer}${said}`);
      break;
    }
    const waitMs = Math.max(0, decision.atMs - nowMs);
    io.stdout(`attempt ${attempt}: ${answer}${said}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  io.stderr(`not delivered within the ${deadlineMs / 1000} s deadline`);
  return 1;
}

function listOutbox(values: Values, io: CommandIo): Promise<number> {
  const states = parseStates(values.state);
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a whole number >= 1, not "${values.limit}"`);
  return withOutbox(values, io, (outbox) => {
    const rows = outbox.list(states, limit);
    if (values.json) {
      io.stdout(JSON.stringify(rows.map(toJson), null, 2));
      return 0;
    }
    if (rows.length === 0) {
      io.stdout(`no webhook events${states.length ? ` in state ${states.join(", ")}` : ""}`);
      return 0;
    }
    const counts = outbox.counts();
    io.stdout(
      [
        OUTBOX_STATES.map((s) => `${s} ${counts[s]}`).join(", "),
        ...rows.map(
          (r) =>
            `${r.state.padEnd(9)} ${r.endpointId.padEnd(16)} ${r.eventId} ${r.eventType.padEnd(19)} attempts ${String(r.attempts).padEnd(3)} ${new Date(r.createdAtMs).toISOString()}${r.lastStatus === undefined ? "" : ` HTTP ${r.lastStatus}`}${r.lastError ? ` ${r.lastError}` : ""}`,
        ),
      ].join("\n"),
    );
    return 0;
  });
}

function redrive(values: Values, io: CommandIo): Promise<number> {
  return withOutbox(values, io, (outbox, config) => {
    const configured = config.webhooks.endpoints.map((e) => e.id);
    if (values.endpoint && !configured.includes(values.endpoint)) {
      io.stderr(
        `warning: endpoint "${values.endpoint}" is not in the config (configured: ${configured.join(", ") || "none"}); its events will fail again`,
      );
    }
    const count = outbox.redrive({
      ...(values.endpoint ? { endpointId: values.endpoint } : {}),
      ...(values.event ? { eventId: values.event } : {}),
    });
    io.stdout(
      count === 0
        ? "nothing to redrive (no failed, rejected or gone events match)"
        : `queued ${count} event${count === 1 ? "" : "s"} again; a running monitor sends them within seconds`,
    );
    return 0;
  });
}

async function withOutbox(
  values: Values,
  io: CommandIo,
  use: (outbox: SqliteOutbox, config: ScoutConfig) => number,
): Promise<number> {
  if (!values.config) throw new UsageError("--config FILE is required");
  const config = loadConfigFile(values.config, "local");
  return withMonitorDatabase(config, values.config, io, "email-scout webhook: no outbox yet", (store) =>
    // No endpoints: this outbox only reads and redrives, it never publishes.
    use(new SqliteOutbox(store.db, [], { now: () => Date.now() }), config),
  );
}

function parseStates(text: string | undefined): OutboxState[] {
  if (text === undefined) return [];
  const states = text.split(",").map((s) => s.trim());
  for (const state of states) {
    if (!(OUTBOX_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state "${state}" is not one of ${OUTBOX_STATES.join(", ")}`);
    }
  }
  return states as OutboxState[];
}

function positiveSeconds(text: string | undefined, option: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${option} must be a number of seconds above 0 and at most ${max}, not "${text}"`);
  }
  return value;
}

function toJson(row: OutboxRow) {
  const { eventJson, ...rest } = row;
  return { ...rest, event: JSON.parse(eventJson) as unknown };
}
