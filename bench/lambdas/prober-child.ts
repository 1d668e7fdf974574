/*
 * Child process: one invocation of the bundled prober, as Lambda would make it, with peak RSS
 * of this process alone. Bundled by esbuild with the SDK external and run by plain `node`, so
 * neither tsx nor a mocking library sits in the measured process.
 *
 * The SDK classes here are the very ones the bundle imports (both resolve @aws-sdk/* to the
 * repo's node_modules), so replacing `send` on their prototypes stands in for the services:
 * SES, Secrets Manager and SQS answer at once; DynamoDB is dynalite (AWS_ENDPOINT_URL_DYNAMODB)
 * or, with SCOUT_STORE=stub, answers at once too. Every DynamoDB call is timed either way.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient } from "@aws-sdk/client-ses";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ProberSummary } from "../../lambdas/handlers/prober.ts";
import { INVOCATION_MARK } from "./invocation-mark.ts";

export interface StoreCall {
  readonly command: string;
  /** "check history", "latest check", "status", "probe", "check results" (a batch) or "other". */
  readonly kind: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The items a PutItem or BatchWriteItem writes: kind and size by DynamoDB's rules, approximately. */
  readonly writes: { readonly kind: string; readonly bytes: number }[];
}

export interface ProberRun {
  readonly wallMs: number;
  readonly summary: {
    checks: number;
    notOk: number;
    probesSent: number;
    lost: number;
    reannounced: number;
    events: number;
    errors: number;
  };
  readonly firstErrors: string[];
  /** CPU time (user + system) of the invocation alone. */
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly rssBeforeInvokeMb: number;
  readonly calls: StoreCall[];
  readonly sqsMessages: number;
  readonly sqsRequests: number;
  /** Message bodies queued for the notifier, bytes in all. */
  readonly sqsBodyBytes: number;
  readonly sesSends: number;
}

interface Command {
  readonly constructor: { name: string };
  readonly input: Record<string, unknown>;
}

type ProberHandler = (event: unknown) => Promise<ProberSummary>;

// The prototypes are patched at run time; typed loosely on purpose.
type Patchable = { prototype: { send: (command: Command) => Promise<unknown> } };

const probesTable = process.env.PROBES_TABLE;
const stubStore = process.env.SCOUT_STORE === "stub";
const calls: StoreCall[] = [];
let sqsMessages = 0;
let sqsRequests = 0;
let sqsBodyBytes = 0;
let sesSends = 0;

function patch(client: unknown, answer: (command: Command) => unknown): void {
  (client as Patchable).prototype.send = async (command) => answer(command);
}

patch(SESClient, () => {
  sesSends += 1;
  return { MessageId: `standin-${sesSends}` };
});
patch(SecretsManagerClient, () => ({ SecretString: process.env.SCOUT_PROBE_KEY_TEXT }));
patch(SQSClient, (command) => {
  sqsRequests += 1;
  const entries = (command.input.Entries as { MessageBody?: string }[] | undefined) ?? [];
  sqsMessages += entries.length;
  for (const entry of entries) sqsBodyBytes += Buffer.byteLength(entry.MessageBody ?? "");
  return { Successful: [], Failed: [] };
});

const documentSend = (DynamoDBDocumentClient as unknown as Patchable).prototype.send;
(DynamoDBDocumentClient as unknown as Patchable).prototype.send = async function timedSend(command) {
  const startMs = performance.now();
  const answer = stubStore ? stubAnswer(command) : await documentSend.call(this, command);
  calls.push({
    command: command.constructor.name,
    kind: kindOf(command),
    startMs,
    endMs: performance.now(),
    writes: itemsWritten(command).map((item) => ({ kind: kindOfItem(item), bytes: itemBytes(item) })),
  });
  return answer;
};

/** What an empty table answers: no item, no rows, every conditional write accepted. */
function stubAnswer(command: Command): unknown {
  if (command.constructor.name === "QueryCommand") return { Items: [], Count: 0 };
  return {};
}

function kindOf(command: Command): string {
  if (command.input.TableName === probesTable) return "probe";
  if (command.input.RequestItems !== undefined) return "check results";
  const values = command.input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  const key = (command.input.Item ?? command.input.Key ?? { pk: values?.[":pk"] }) as Record<string, unknown>;
  return kindOfItem(key);
}

function kindOfItem(item: Record<string, unknown>): string {
  const pk = String(item.pk ?? "");
  if (pk.startsWith("check#")) return "check history";
  if (pk === "latest") return "latest check";
  if (pk === "status") return "status";
  if ("probeId" in item) return "probe";
  return "other";
}

/** The items a put or a batch write stores. */
function itemsWritten(command: Command): Record<string, unknown>[] {
  const item = command.input.Item as Record<string, unknown> | undefined;
  if (item !== undefined) return [item];
  const requests = Object.values(
    (command.input.RequestItems ?? {}) as Record<
      string,
      { PutRequest?: { Item?: Record<string, unknown> } }[]
    >,
  ).flat();
  return requests.flatMap((request) => (request.PutRequest?.Item ? [request.PutRequest.Item] : []));
}

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers ~1 byte per 2 digits). */
function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name) + valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value === "number") return Math.ceil(String(value).replace(/[-.]/g, "").length / 2) + 1;
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "object") return 3 + itemBytes(value as Record<string, unknown>);
  return 0;
}

async function main(): Promise<void> {
  const bundleUrl = process.env.SCOUT_BUNDLE_URL;
  const event = JSON.parse(process.env.SCOUT_SCHEDULED_EVENT ?? "null") as unknown;
  if (bundleUrl === undefined || event === null)
    throw new Error("SCOUT_BUNDLE_URL and SCOUT_SCHEDULED_EVENT");
  const { handler } = (await import(bundleUrl)) as { handler: ProberHandler };
  // The first invocation meets empty tables (every status is new); the next ones are the
  // steady state of a warm container, as a schedule every minute keeps it.
  const invocations = Number(process.env.SCOUT_INVOCATIONS ?? "1");
  const runs: ProberRun[] = [];
  for (let invocation = 0; invocation < invocations; invocation++) {
    if (invocation > 0) {
      await new Promise((resolve) => process.stdout.write(`${INVOCATION_MARK}\n`, resolve));
    }
    runs.push(await invokeOnce(handler, event));
  }
  process.send?.(runs, () => process.exit(0));
}

async function invokeOnce(handler: ProberHandler, event: unknown): Promise<ProberRun> {
  calls.length = 0;
  sqsMessages = 0;
  sqsRequests = 0;
  sqsBodyBytes = 0;
  sesSends = 0;
  const rssBeforeInvokeMb = process.memoryUsage().rss / 2 ** 20;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const summary = await handler(event);
  const end = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    wallMs: end - start,
    summary: { ...summary, errors: summary.errors.length },
    firstErrors: summary.errors.slice(0, 3).map((error) => `${error.step}: ${error.error}`),
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeInvokeMb,
    calls: calls.map((call) => ({ ...call, startMs: call.startMs - start, endMs: call.endMs - start })),
    sqsMessages,
    sqsRequests,
    sqsBodyBytes,
    sesSends,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `prober child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
