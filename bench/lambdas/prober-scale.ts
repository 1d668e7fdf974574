/*
 * The prober at scale: one invocation of the bundled prober in a fresh process against the
 * stand-ins (standins.ts), with the parent reading its log output the way CloudWatch Logs would
 * receive it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { CONFIG_FILE_NAME } from "../../lambdas/runtime/config-path.ts";
import { METRICS_NAMESPACE } from "../../lib/monitoring/scout-metrics.ts";
import { FAKE_CREDENTIALS, REGION } from "../../test/support/aws-standins.ts";
import { writeLambdaConfig } from "../../test/support/lambda-config.ts";
import type { Bundle } from "./bundle.ts";
import { INVOCATION_MARK } from "./invocation-mark.ts";
import type { ProberRun, StoreCall } from "./prober-child.ts";
import { INBOUND_DOMAIN, scaleConfig } from "./scale-config.ts";
import type { StandInCounts, StandInMessage, StandIns } from "./standins.ts";

const HERE = import.meta.dirname;
const REPO = join(HERE, "../..");
const SCHEDULED_EVENT = readFileSync(join(REPO, "test/fixtures/aws/scheduled-event.json"), "utf8");
const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";
const RUN_DEADLINE_MS = 240_000;

export interface StandInProcess {
  readonly standIns: StandIns;
  freshTables(): Promise<{ probesTable: string; resultsTable: string }>;
  stop(): void;
}

/** Starts standins.ts in its own process (under tsx) and waits until everything listens. */
export async function startStandIns(counts: StandInCounts): Promise<StandInProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "standins.ts")], {
    cwd: REPO,
    env: {
      ...process.env,
      SCOUT_STANDIN_COUNTS: JSON.stringify(counts),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const standIns = await nextMessage(child, 60_000, (message) =>
    "ready" in message ? message.ready : undefined,
  );
  return {
    standIns,
    freshTables: async () => {
      const reply = nextMessage(child, 30_000, (message) =>
        "tables" in message ? message.tables : undefined,
      );
      child.send({ tables: true });
      return reply;
    },
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}

function nextMessage<T>(
  child: ChildProcess,
  timeoutMs: number,
  pick: (message: StandInMessage) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`the stand-ins did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: StandInMessage) => {
      const picked = pick(message);
      if (picked !== undefined) finish(undefined, picked);
    };
    const onExit = (code: number | null) => finish(new Error(`the stand-ins process ended (exit ${code})`));
    function finish(error: Error | undefined, value?: T): void {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

/** Builds prober-child.ts next to the prober bundle, so it resolves @aws-sdk/* the same way. */
export async function buildHarness(prober: Bundle): Promise<string> {
  const file = join(prober.directory, "harness.mjs");
  await build({
    entryPoints: [join(HERE, "prober-child.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["@aws-sdk/*"],
    logLevel: "error",
  });
  return file;
}

export interface ScaleRun {
  /** "first": empty tables, every status new; "next": the same container again, the steady state. */
  readonly invocation: "first" | "next";
  readonly concurrency: number;
  readonly store: "dynalite" | "stub";
  readonly endpoints: number;
  readonly run: ProberRun;
  /** From the invocation's start to the first check result written: the checks themselves. */
  readonly checksPhaseMs: number;
  /** Time with at least one DynamoDB call in flight. */
  readonly storeBusyMs: number;
  /** Calls per command and kind of item, e.g. "PutCommand check history" -> 1000. */
  readonly callCounts: Record<string, number>;
  /** Mean size of the items written (PutItem, BatchWriteItem), per kind of item. */
  readonly meanItemBytes: Record<string, number>;
  /** Items written per kind of item, by either call. */
  readonly itemsWritten: Record<string, number>;
  readonly logBytes: number;
  readonly logLines: number;
  readonly metricBytes: number;
  readonly metricLines: number;
  /** Reasons of the checks that were not OK, as "3× slow; 1× timeout-connect". */
  readonly notOkReasons: Record<string, number>;
}

/** One shard's run in a fleet of shards (prober-shards.ts): its event and the fleet's config and tables. */
export interface ShardOfFleet {
  /** The event the shard's rule target sends, as JSON. */
  readonly event: string;
  /** The fleet's whole configuration, which every shard reads. */
  readonly config: Record<string, unknown>;
  readonly tables: { readonly probesTable: string; readonly resultsTable: string };
  /** The checks this shard must run: its targets' endpoints. */
  readonly checks: number;
}

/**
 * Two invocations of the prober, one after the other in one process, with `endpoints`
 * endpoints at `concurrency`: the first on empty tables, the next as every later one runs.
 * With `shard`, the invocations are that shard's, on the fleet's tables.
 */
export async function runProberAtScale(options: {
  readonly prober: Bundle;
  readonly harness: string;
  readonly standIns: StandInProcess;
  readonly caFile: string;
  readonly endpoints: number;
  readonly concurrency: number;
  readonly intervalSeconds: number;
  readonly store: "dynalite" | "stub";
  readonly shard?: ShardOfFleet;
}): Promise<ScaleRun[]> {
  const tables = options.shard?.tables ?? (await options.standIns.freshTables());
  const config =
    options.shard?.config ??
    scaleConfig({
      standIns: options.standIns.standIns,
      endpoints: options.endpoints,
      checkConcurrency: options.concurrency,
      intervalSeconds: options.intervalSeconds,
      caFile: options.caFile,
    });
  const expectedChecks = options.shard?.checks ?? options.endpoints;
  // Where the stack's bundling hook puts it: at the bundle's root.
  writeLambdaConfig(join(options.prober.directory, CONFIG_FILE_NAME), config);
  const child = spawn(process.execPath, ["--enable-source-maps", options.harness], {
    cwd: options.prober.directory,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LAMBDA_TASK_ROOT: options.prober.directory,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: options.standIns.standIns.dynamoEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      PROBES_TABLE: tables.probesTable,
      RESULTS_TABLE: tables.resultsTable,
      PROBE_KEY_SECRET_ARN: KEY_ARN,
      EVENTS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events",
      SES_FROM: `Email Scout <scout@${INBOUND_DOMAIN}>`,
      POWERTOOLS_SERVICE_NAME: "email-scout-prober",
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      SCOUT_STORE: options.store,
      SCOUT_INVOCATIONS: "2",
      SCOUT_BUNDLE_URL: pathToFileURL(options.prober.file).href,
      SCOUT_SCHEDULED_EVENT: options.shard?.event ?? SCHEDULED_EVENT,
      SCOUT_PROBE_KEY_TEXT: formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]),
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const output = collectOutput(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const runs = await new Promise<ProberRun[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the prober did not finish within ${RUN_DEADLINE_MS} ms`));
    }, RUN_DEADLINE_MS);
    child.once("message", (message: ProberRun[]) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the prober process ended (exit ${code}) without a result: ${stderr.slice(-2000)}`));
    });
  });
  await new Promise((resolve) => child.once("close", resolve));
  const outputs = output.totals();
  return runs.map((run, index) => {
    if (run.summary.checks !== expectedChecks) {
      throw new Error(
        `the prober ran ${run.summary.checks} checks, not ${expectedChecks}: ${run.firstErrors.join("; ") || stderr.slice(-2000)}`,
      );
    }
    return {
      invocation: index === 0 ? "first" : "next",
      concurrency: options.concurrency,
      store: options.store,
      endpoints: options.endpoints,
      run,
      ...analyse(run.calls),
      ...(outputs[index] ?? outputs[0]),
    } as ScaleRun;
  });
}

/** Reads the child's stdout as CloudWatch Logs would get it: JSON log lines and EMF lines. */
function collectOutput(child: ChildProcess) {
  let pending = "";
  const fresh = () => ({
    logBytes: 0,
    logLines: 0,
    metricBytes: 0,
    metricLines: 0,
    notOkReasons: {} as Record<string, number>,
  });
  const segments = [fresh()];
  const take = (line: string) => {
    if (line.trim() === "") return;
    if (line.trim() === INVOCATION_MARK) {
      segments.push(fresh());
      return;
    }
    const totals = segments[segments.length - 1] as ReturnType<typeof fresh>;
    const bytes = Buffer.byteLength(line) + 1;
    let entry: Record<string, unknown> = {};
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // Not JSON: still a log line.
    }
    if ("_aws" in entry) {
      totals.metricBytes += bytes;
      totals.metricLines += 1;
      return;
    }
    totals.logBytes += bytes;
    totals.logLines += 1;
    if (entry.message === "check" && entry.status !== "OK") {
      const reason = String(entry.reason);
      totals.notOkReasons[reason] = (totals.notOkReasons[reason] ?? 0) + 1;
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) take(line);
  });
  return {
    /** Per invocation, in order. */
    totals: () => {
      take(pending);
      pending = "";
      return segments;
    },
  };
}

function analyse(calls: readonly StoreCall[]) {
  const callCounts: Record<string, number> = {};
  const bytes: Record<string, number[]> = {};
  for (const call of calls) {
    const name = `${call.command.replace(/Command$/, "")} ${call.kind}`;
    callCounts[name] = (callCounts[name] ?? 0) + 1;
    for (const write of call.writes) bytes[write.kind] = [...(bytes[write.kind] ?? []), write.bytes];
  }
  const meanItemBytes = Object.fromEntries(
    Object.entries(bytes).map(([kind, sizes]) => [kind, sizes.reduce((a, b) => a + b, 0) / sizes.length]),
  );
  const itemsWritten = Object.fromEntries(Object.entries(bytes).map(([kind, sizes]) => [kind, sizes.length]));
  const firstResultWrite = Math.min(
    ...calls
      .filter((call) => call.writes.some((write) => write.kind === "check history"))
      .map((call) => call.startMs),
  );
  return {
    checksPhaseMs: firstResultWrite,
    storeBusyMs: busyTime(calls),
    callCounts,
    meanItemBytes,
    itemsWritten,
  };
}

/** Length of the union of the calls' [start, end] intervals. */
function busyTime(calls: readonly StoreCall[]): number {
  const sorted = [...calls].sort((a, b) => a.startMs - b.startMs);
  let busy = 0;
  let openStart = Number.NEGATIVE_INFINITY;
  let openEnd = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (call.startMs > openEnd) {
      if (openEnd > openStart) busy += openEnd - openStart;
      openStart = call.startMs;
      openEnd = call.endMs;
    } else openEnd = Math.max(openEnd, call.endMs);
  }
  if (openEnd > openStart) busy += openEnd - openStart;
  return busy;
}
