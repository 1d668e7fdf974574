/*
 * The Lambdas on this machine: bundle size as the CDK builds it, cold init, the prober with
 * 1,000 endpoints in one invocation against local servers, and a fleet of 10,000 endpoints in
 * prober shards. --baseline bundles another revision's handlers too, so its sizes and cold
 * inits are measured in the same run, beside this tree's.
 *
 *   npx tsx bench/lambdas/run.ts [--endpoints 1000] [--runs 10] [--concurrency 16,64]
 *     [--fleet-endpoints 10000] [--fleet-target-size 5] [--baseline <git revision>]
 *
 * Prints one Markdown table per part and writes them to bench/lambdas/results.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_STORE_CONCURRENCY as STORE_CONCURRENCY } from "../../core/cycle/cycle-ports.ts";
import { fmt, median, percentile } from "../stats.ts";
import {
  type Baseline,
  type Bundle,
  bundleLabel,
  bundleLambda,
  exportBaseline,
  externalsOnly,
  type InitSubject,
  LAMBDAS,
} from "./bundle.ts";
import { coldInits, type InitSample } from "./cold-init.ts";
import { machineLines, table, verdict } from "./markdown.ts";
import { buildHarness, runProberAtScale, type ScaleRun, startStandIns } from "./prober-scale.ts";
import { runShardFleet, type ShardFleet, shardSection } from "./prober-shards.ts";

const RESULTS = join(import.meta.dirname, "results.md");
const SDK_EXTERNAL_NAME = "correlator with the runtime's AWS SDK (external; not as deployed)";
/** Issue 14: the correlator's cold init, median, at most this (207 ms before the Lambdas read JSON). */
const CORRELATOR_INIT_TARGET_MS = 150;
const MEMORY_LIMIT_MB = 512;
/** "Well inside the schedule interval": at most half of it, so a slow cycle never meets the next. */
const INTERVAL_SHARE_TARGET = 0.5;
const SERVERS = { smtp: 50, imap: 25, pop3: 25 };
/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. */
const LAMBDA_VCPU_AT_512_MB = 512 / 1769;

const { values: args } = parseArgs({
  options: {
    endpoints: { type: "string", default: "1000" },
    runs: { type: "string", default: "10" },
    concurrency: { type: "string", default: "16,64" },
    interval: { type: "string", default: "60" },
    "fleet-endpoints": { type: "string", default: "10000" },
    "fleet-target-size": { type: "string", default: "5" },
    baseline: { type: "string", default: "" },
  },
});
const ENDPOINTS = whole("endpoints", args.endpoints, 10, 5000);
const RUNS = whole("runs", args.runs, 1, 100);
const INTERVAL_S = whole("interval", args.interval, 60, 3600);
const CONCURRENCIES = (args.concurrency ?? "").split(",").map((text) => whole("concurrency", text, 1, 512));
/** 0 leaves the fleet out. */
const FLEET_ENDPOINTS = whole("fleet-endpoints", args["fleet-endpoints"], 0, 20_000);
const FLEET_TARGET_SIZE = whole("fleet-target-size", args["fleet-target-size"], 1, 100);
const FLEET_CONCURRENCY = Math.max(...CONCURRENCIES);

function whole(name: string, text: string | undefined, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

const started = Date.now();
const workDir = mkdtempSync(join(tmpdir(), "scout-lambda-bench-"));
process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));

log("bundling the handlers as the CDK does");
const bundles: Bundle[] = [];
for (const lambda of LAMBDAS) bundles.push(await bundleLambda(workDir, lambda));
const baseline: Baseline | undefined = args.baseline ? exportBaseline(args.baseline, workDir) : undefined;
const baselineBundles: Bundle[] = [];
if (baseline !== undefined) {
  log(`bundling the handlers of ${baseline.revision} (--baseline) the same way`);
  for (const lambda of LAMBDAS) baselineBundles.push(await bundleLambda(workDir, lambda, { baseline }));
}
const entryOf = (name: string) => LAMBDAS.find((lambda) => lambda.name === name) as (typeof LAMBDAS)[number];
const correlatorSdkExternal = await bundleLambda(workDir, entryOf("correlator"), { sdkExternal: true });
// The scale run's harness patches the SDK classes it shares with the bundle (see bundleLambda).
const proberSdkExternal = await bundleLambda(workDir, entryOf("prober"), { sdkExternal: true });

log(`cold init: ${RUNS} fresh processes per bundle, with and without --enable-source-maps`);
// The correlator's SDK imports alone, loaded from node_modules as the runtime would, and the
// correlator that leaves the SDK to the runtime: what bundling it saves at init.
const sdkOnly = externalsOnly(correlatorSdkExternal);
const initSubjects: InitSubject[] = [
  ...bundles,
  ...baselineBundles.map((bundle) => ({ ...bundle, name: bundleLabel(bundle) })),
  sdkOnly,
  { ...correlatorSdkExternal, name: SDK_EXTERNAL_NAME },
];
const inits = await coldInits(initSubjects, RUNS);

log(`prober: ${ENDPOINTS} endpoints on ${SERVERS.smtp + SERVERS.imap + SERVERS.pop3} local servers`);
const standIns = await startStandIns(SERVERS);
const scaleRuns: ScaleRun[] = [];
let fleet: ShardFleet | undefined;
try {
  const caFile = join(workDir, "test-ca.pem");
  writeFileSync(caFile, standIns.standIns.caPem);
  const prober = proberSdkExternal;
  const harness = await buildHarness(prober);
  for (const concurrency of CONCURRENCIES) {
    for (const store of ["dynalite", "stub"] as const) {
      log(`prober: concurrency ${concurrency}, store ${store}`);
      const runs = await runProberAtScale({
        prober,
        harness,
        standIns,
        caFile,
        endpoints: ENDPOINTS,
        concurrency,
        intervalSeconds: INTERVAL_S,
        store,
      });
      scaleRuns.push(...runs);
      for (const run of runs) {
        log(`  ${run.invocation}: ${fmt(run.run.wallMs / 1000, 1)} s, CPU ${fmt(run.run.cpuMs / 1000, 1)} s`);
      }
    }
  }
  if (FLEET_ENDPOINTS > 0) {
    log(`prober fleet: ${FLEET_ENDPOINTS} endpoints in targets of ${FLEET_TARGET_SIZE}, in shards`);
    fleet = await runShardFleet({
      prober,
      harness,
      standIns,
      caFile,
      endpoints: FLEET_ENDPOINTS,
      endpointsPerTarget: FLEET_TARGET_SIZE,
      concurrency: FLEET_CONCURRENCY,
      intervalSeconds: INTERVAL_S,
      log,
    });
  }
} finally {
  standIns.stop();
}

const lines = [
  "# Email Scout Lambdas: bundle, cold init, prober at scale",
  "",
  ...machineLines().map((line) => `- ${line}`),
  `- whole run: ${fmt((Date.now() - started) / 1000, 0)} s; \`npx tsx bench/lambdas/run.ts --endpoints ${ENDPOINTS} --runs ${RUNS} --concurrency ${CONCURRENCIES.join(",")} --fleet-endpoints ${FLEET_ENDPOINTS} --fleet-target-size ${FLEET_TARGET_SIZE}${baseline ? ` --baseline ${baseline.revision}` : ""}\``,
  "",
  ...sizeSection(),
  "",
  ...initSection(),
  "",
  ...scaleSection(),
  "",
  ...storeSection(),
  "",
  ...memorySection(),
  "",
  ...(fleet ? [...shardSection(fleet, INTERVAL_S, INTERVAL_SHARE_TARGET), ""] : []),
];
const text = lines.join("\n");
process.stdout.write(`${text}\n`);
writeFileSync(RESULTS, text);
log(`written to ${RESULTS}`);

function sizeSection(): string[] {
  return [
    "## 1. Bundle size (esbuild, minified, ESM, node24, AWS SDK bundled in)",
    "",
    ...table(
      ["Lambda", "index.mjs bytes", "index.mjs KB", "source map KB (shipped beside it)", "largest parts, KB"],
      [...bundles, ...baselineBundles].map((bundle) => [
        bundleLabel(bundle),
        String(bundle.bytes),
        fmt(bundle.bytes / 1024, 1),
        fmt(bundle.sourceMapBytes / 1024, 1),
        bundle.packages
          .slice(0, 4)
          .map(([name, bytes]) => `${name} ${fmt(bytes / 1024, 0)}`)
          .join(", "),
      ]),
    ),
    "",
    ...bundles.flatMap((bundle) =>
      bundle.lazyModules.map(
        ([name, bytes]) =>
          `The ${bundle.name} also ships node_modules/${name}/index.mjs (${fmt(bytes / 1024, 0)} KB), bundled on its own and loaded at its first use, not at init.`,
      ),
    ),
    "The settings are SCOUT_BUNDLING, imported from lib/constructs/scout-function.ts, the very",
    "object the construct passes to NodejsFunction. The notifier is bundled as it is in the",
    "working tree at the time of the run.",
    ...(baseline
      ? [
          `The "baseline ${baseline.revision}" rows are the handlers of commit ${baseline.revision} (git archive),`,
          "bundled in this run with the same settings and packages: only the project's own code differs.",
        ]
      : []),
    `For comparison, not deployed so: the correlator leaving the AWS SDK to the runtime is ${fmt(correlatorSdkExternal.bytes / 1024, 0)} KB`,
    `(${correlatorSdkExternal.packages
      .slice(0, 4)
      .map(([name, bytes]) => `${name} ${fmt(bytes / 1024, 0)}`)
      .join(", ")}).`,
  ];
}

function initSection(): string[] {
  const stat = (samples: InitSample[] | undefined, pick: (sample: InitSample) => number) => {
    const values = (samples ?? []).map(pick);
    return { median: median(values), p90: percentile(values, 90) };
  };
  const medianOf = (name: string) =>
    stat(inits.get(name)?.deployed, (sample) => sample.sinceStartMs).median ?? Number.POSITIVE_INFINITY;
  const rows = initSubjects.map((bundle) => {
    const deployed = inits.get(bundle.name)?.deployed;
    const since = stat(deployed, (sample) => sample.sinceStartMs);
    const importOnly = stat(deployed, (sample) => sample.importMs);
    const noMaps = stat(inits.get(bundle.name)?.withoutSourceMaps, (sample) => sample.sinceStartMs);
    const before = baselineBundles.find((old) => old.name === bundle.name);
    const targets: string[] = [];
    let met = true;
    if (LAMBDAS.some((lambda) => lambda.name === bundle.name) && before !== undefined) {
      targets.push("median no worse than the baseline's");
      met &&= (since.median ?? Number.POSITIVE_INFINITY) <= medianOf(bundleLabel(before));
    }
    if (bundle.name === "correlator") {
      targets.push(`median <= ${CORRELATOR_INIT_TARGET_MS} ms`);
      met &&= (since.median ?? Number.POSITIVE_INFINITY) <= CORRELATOR_INIT_TARGET_MS;
    }
    const target = targets.length > 0 ? targets.join(", ") : "—";
    return [
      bundle.name,
      `${fmt(since.median, 0)} / ${fmt(since.p90, 0)}`,
      `${fmt(importOnly.median, 0)} / ${fmt(importOnly.p90, 0)}`,
      `${fmt(noMaps.median, 0)} / ${fmt(noMaps.p90, 0)}`,
      target,
      targets.length > 0 ? verdict(met) : "—",
    ];
  });
  return [
    `## 2. Cold init (fresh \`node\` per sample, ${RUNS} samples, median / p90 in ms)`,
    "",
    ...table(
      [
        "Lambda",
        "process start -> handler exported",
        "import() alone",
        "start -> exported, no --enable-source-maps",
        "target",
        "verdict",
      ],
      rows,
    ),
    "",
    "Measured inside the child: performance.now() (from the process's time origin) after",
    "`await import(bundle)`. The stack sets NODE_OPTIONS=--enable-source-maps on every function, so",
    "the first columns run with it. The AWS SDK is inside each bundle (as deployed); the what-if",
    "rows load it from the repo's node_modules, as the runtime's copy would be loaded. Lambda's Init Duration also holds the",
    "runtime's own bootstrap and runs on arm64 with a CPU share of 512 MB (about a third of a",
    "vCPU), so expect it higher than here; the handlers read their configuration and build",
    "their clients on the first invocation, not at import.",
    `The row "${sdkOnly.name}" imports only ${correlatorSdkExternal.externalImports.join(", ")};`,
    `"${SDK_EXTERNAL_NAME}" is the same handler with those clients left to the runtime.`,
  ];
}

function scaleSection(): string[] {
  const rows = scaleRuns.map((scale) => {
    const { run } = scale;
    const share = run.wallMs / 1000 / INTERVAL_S;
    const cpuFloorS = run.cpuMs / 1000 / LAMBDA_VCPU_AT_512_MB;
    const floorShare = cpuFloorS / INTERVAL_S;
    const fits = (part: number) => run.maxRssMb < MEMORY_LIMIT_MB && part <= INTERVAL_SHARE_TARGET;
    const reasons = Object.entries(scale.notOkReasons)
      .map(([reason, count]) => `${count}× ${reason}`)
      .join(", ");
    return [
      String(scale.concurrency),
      scale.store,
      scale.invocation,
      fmt(run.wallMs / 1000, 1),
      fmt(scale.checksPhaseMs / 1000, 1),
      fmt(scale.storeBusyMs / 1000, 1),
      fmt(run.summary.checks / (run.wallMs / 1000), 0),
      fmt(run.cpuMs / 1000, 1),
      `${fmt(run.maxRssMb, 0)} (${fmt((100 * run.maxRssMb) / MEMORY_LIMIT_MB, 0)} %)`,
      `${fmt(100 * share, 0)} %`,
      `${fmt(cpuFloorS, 0)} s = ${fmt(100 * floorShare, 0)} %`,
      `${run.summary.notOk}${reasons ? ` (${reasons})` : ""}; errors ${run.summary.errors}`,
      `${verdict(fits(share))} here; ${verdict(fits(floorShare))} on Lambda`,
    ];
  });
  const errors = scaleRuns.flatMap((scale) => scale.run.firstErrors);
  return [
    `## 3. Prober: ${ENDPOINTS} endpoints in one invocation (${Math.ceil(ENDPOINTS / 10)} targets with a probe each)`,
    "",
    ...table(
      [
        "concurrency",
        "store",
        "run",
        "wall s",
        "checks phase s",
        "store busy s",
        "checks/s",
        "CPU s",
        `peak RSS MB (of ${MEMORY_LIMIT_MB})`,
        `wall, of ${INTERVAL_S} s interval`,
        "CPU floor at 512 MB, of interval",
        "not OK",
        `target: < ${MEMORY_LIMIT_MB} MB, <= ${100 * INTERVAL_SHARE_TARGET} % of interval (wall here, CPU floor on Lambda)`,
      ],
      rows,
    ),
    "",
    `Servers (another process): ${SERVERS.smtp} SMTP (smtp-server, STARTTLS), ${SERVERS.imap} IMAP and ${SERVERS.pop3} POP3`,
    "(test fakes, STARTTLS/STLS), certificate from a private test CA given as each endpoint's caFile,",
    "chain and name verified; half the endpoints SMTP, a quarter each IMAP and POP3, no login.",
    "The prober is the CDK bundle with the AWS SDK left external (so the harness can stand in for",
    "SES, SQS and Secrets Manager; the SDK code that runs is the same), run by",
    "`node --enable-source-maps` in a fresh process; peak RSS",
    "is that process's maxRSS. SES, Secrets Manager and SQS answer at once (their SDK clients'",
    '`send` replaced in that process). Store "dynalite": DynamoDB is dynalite in the servers\'',
    'process; "stub": every DynamoDB call answers at once (no item, no rows), which shows the',
    "prober's own time. \"checks phase\" runs from the invocation's start to the first check",
    'result written; "store busy" is the time with at least one DynamoDB call in flight.',
    "All three processes share this machine's CPUs, so the servers' TLS work slows the prober.",
    '"CPU s" is the prober process\'s own CPU time in the invocation. "CPU floor" is the time that',
    `CPU takes at the ${fmt(LAMBDA_VCPU_AT_512_MB, 2)} vCPU Lambda gives 512 MB (one vCPU at 1,769 MB): the Lambda's`,
    "duration cannot be shorter, however fast the servers answer (arm64 and x86 cores differ",
    "somewhat; real DynamoDB is HTTPS, which adds a little). The stub rows leave out the CPU the",
    "SDK spends on DynamoDB calls (signing, marshalling); the dynalite rows hold it, as on AWS.",
    "",
    '"first" runs on empty tables (every status is new and written); "next" is a second',
    "invocation in the same process, as a warm container runs every later cycle: the statuses",
    "then change only where a check's outcome does. The prober stores results in BatchWriteItem",
    `calls of 25 items, at most ${STORE_CONCURRENCY} DynamoDB calls in flight (fewer than the SDK's 50`,
    "sockets, so no request waits for one long enough for its 3 s connectionTimeout to fire).",
    "Real DynamoDB answers in a few ms, so the store's share of the invocation there is about",
    "(batch calls / concurrency) × the call latency: well under a second. Errors here would be",
    "lost results (store-check), named below.",
    ...(errors.length > 0 ? ["", `First errors: ${errors.map((error) => `\`${error}\``).join("; ")}`] : []),
  ];
}

function storeSection(): string[] {
  const scale = scaleRuns.find((run) => run.store === "dynalite" && run.invocation === "next");
  if (scale === undefined) return [];
  const checks = scale.run.summary.checks || 1;
  const rows = Object.entries(scale.callCounts)
    .sort((a, b) => b[1] - a[1])
    .map(([call, count]) => [call, String(count), fmt(count / checks, 2)]);
  const itemRows = Object.entries(scale.itemsWritten)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => {
      const bytes = scale.meanItemBytes[kind];
      return [
        kind,
        String(count),
        fmt(count / checks, 2),
        fmt(bytes, 0),
        bytes === undefined ? "—" : String(Math.ceil(bytes / 1024)),
      ];
    });
  const perCheck = (value: number) => fmt(value / checks, 0);
  return [
    `## 4. What one cycle asks of AWS (from the next dynalite run at concurrency ${scale.concurrency}, ${checks} checks)`,
    "",
    ...table(["DynamoDB call and item", "calls", "per check"], rows),
    "",
    ...table(["item written", "items", "per check", "mean item bytes", "write units each"], itemRows),
    "",
    ...table(
      ["output", "lines", "bytes", "bytes per check"],
      [
        [
          "log lines (Powertools JSON)",
          String(scale.logLines),
          String(scale.logBytes),
          perCheck(scale.logBytes),
        ],
        [
          "EMF metric lines",
          String(scale.metricLines),
          String(scale.metricBytes),
          perCheck(scale.metricBytes),
        ],
        [
          `SQS messages, one per event and webhook endpoint (${scale.run.summary.events} events, ${scale.run.sqsRequests} SendMessageBatch)`,
          String(scale.run.sqsMessages),
          String(scale.run.sqsBodyBytes),
          perCheck(scale.run.sqsBodyBytes),
        ],
        ["SES SendRawEmail (probes)", String(scale.run.sesSends), "—", "—"],
      ],
    ),
    "",
    "Item sizes follow DynamoDB's rule (attribute names plus values), approximately; a write unit",
    "covers 1 KB, and on demand a batch write costs the same units as its items written one by one:",
    "batches save calls (CPU for signing and HTTP, round trips), not money. The statuses are read",
    "with one strongly consistent Query per run; a status is written only when it changes (or once",
    "a day, to keep its TTL), and the round-trip subject, which the correlator writes too, item by",
    'item. docs/aws.md ("What it costs") turns these counts into money.',
  ];
}

/**
 * aws.proberMemoryMb guidance: Lambda gives CPU in proportion to memory and bills memory × time
 * at one price per GB-second, so a CPU-bound run costs about the same at any size while more
 * memory finishes it sooner.
 */
function memorySection(): string[] {
  const scale =
    scaleRuns.find(
      (run) => run.store === "dynalite" && run.invocation === "next" && run.concurrency === 64,
    ) ?? scaleRuns.find((run) => run.store === "dynalite" && run.invocation === "next");
  if (scale === undefined) return [];
  const cpuS = scale.run.cpuMs / 1000;
  const rows = [512, 1024, 1769].map((memoryMb) => {
    const floorS = cpuS / (memoryMb / 1769);
    const share = floorS / INTERVAL_S;
    return [
      String(memoryMb),
      fmt(memoryMb / 1769, 2),
      `${fmt(floorS, 0)} s = ${fmt(100 * share, 0)} %`,
      fmt((memoryMb / 1024) * floorS, 1),
      verdict(scale.run.maxRssMb < memoryMb && share <= INTERVAL_SHARE_TARGET),
    ];
  });
  return [
    `## 5. aws.proberMemoryMb (from the next dynalite run at concurrency ${scale.concurrency}: ${fmt(cpuS, 1)} CPU s, peak RSS ${fmt(scale.run.maxRssMb, 0)} MB)`,
    "",
    ...table(
      [
        "memory MB",
        "vCPU",
        "CPU floor, of interval",
        "GB-s floor per run",
        `target: <= ${100 * INTERVAL_SHARE_TARGET} % of interval`,
      ],
      rows,
    ),
    "",
    "Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB) and bills",
    "memory × duration at one price per GB-second: a CPU-bound run costs the same GB-seconds at",
    "any size, and more memory only finishes it sooner. Measured on this machine's x86 cores;",
    "Lambda's arm64 cores differ somewhat.",
  ];
}
