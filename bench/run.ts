/**
 * Email Scout against the tools users pick today, on the demo mail host (127.0.0.1):
 * monitoring-plugins (check_smtp, check_ssmtp, check_imap, check_simap, check_pop,
 * check_spop) and prometheus-blackbox-exporter (tcp modules, over its HTTP /probe).
 *
 *   npm run bench [-- --runs 50 --throughput-checks 200 --cli-runs 10 --only smtp,imaps]
 *
 * Prints a table per service and writes the same as Markdown to bench/results/latest.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { parseEndpointUrl } from "../core/checks/endpoint.ts";
import type { CheckOptions } from "../core/checks/run-check.ts";
import { ensureDemoHost, ensurePeers } from "./install.ts";
import { machineLines } from "./machine.ts";
import { CLI, cliSequential, type OursSequential, oursSequential, oursThroughput } from "./ours.ts";
import { Blackbox } from "./peers/blackbox.ts";
import { certCheck, describePlugin, pluginSequential, pluginThroughput } from "./peers/monitoring-plugins.ts";
import { pooled, runPool, type Throughput } from "./pool.ts";
import { mergeSequential, type Sequential, type ToolResult } from "./result.ts";
import { HOST, SERVICES, type Service } from "./services.ts";
import { fmt, median } from "./stats.ts";
import { type Format, renderPhases, renderService, type ServiceReport } from "./table.ts";

const CONCURRENCIES = [1, 16, 64] as const;
const WARMUP = 3;
/** Timed throughput batches per tool and concurrency, interleaved between the tools. */
const THROUGHPUT_ROUNDS = 3;
/** Sequential runs are split into this many chunks per tool, interleaved between the tools. */
const SEQUENTIAL_CHUNKS = 5;
const RESULTS = "bench/results/latest.md";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "50" },
    "throughput-checks": { type: "string", default: "200" },
    "cli-runs": { type: "string", default: "10" },
    only: { type: "string" },
  },
});
const RUNS = positive("runs", args.runs);
const THROUGHPUT_CHECKS = positive("throughput-checks", args["throughput-checks"]);
const CLI_RUNS = Number(args["cli-runs"]);
const ONLY = args.only?.split(",").map((s) => s.trim());

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`--${name} must be an integer 1..10000`);
  return n;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

interface PhaseRow {
  service: string;
  phases: Record<string, number>;
  responseMs?: number;
  totalMs?: number;
}

async function benchService(
  service: Service,
  exporter: Blackbox,
  options: CheckOptions,
  caFile: string,
): Promise<{ report: ServiceReport; phases: PhaseRow }> {
  const target = `${HOST}:${service.port}`;
  const plugin = service.plugin;
  const pluginName = `${plugin.plugin} (monitoring-plugins)`;
  const exporterName = `blackbox_exporter ${service.module}`;

  log(`${service.name}: warm-up, then ${RUNS} sequential runs per tool`);
  await oursSequential(service.url, options, WARMUP);
  await pluginSequential(plugin, WARMUP);
  for (let i = 0; i < WARMUP; i++) await exporter.probe(service.module, target);

  // The tools take turns in chunks (see mergeSequential).
  const chunks: Record<"ours" | "plain" | "plugin" | "exporter", Sequential[]> = {
    ours: [],
    plain: [],
    plugin: [],
    exporter: [],
  };
  const ourChunks: OursSequential[] = [];
  const chunkRuns = Math.max(1, Math.round(RUNS / SEQUENTIAL_CHUNKS));
  for (let done = 0; done < RUNS; done += chunkRuns) {
    const runs = Math.min(chunkRuns, RUNS - done);
    ourChunks.push(await oursSequential(service.url, options, runs));
    if (service.plainUrl) chunks.plain.push(await oursSequential(service.plainUrl, options, runs));
    chunks.plugin.push(await pluginSequential(plugin, runs));
    chunks.exporter.push(await exporterSequential(exporter, service.module, target, runs));
  }
  const ours = mergeOurs(ourChunks);
  const cli: Sequential | undefined =
    CLI_RUNS > 0 && existsSync(CLI) ? await cliSequential(service.url, caFile, CLI_RUNS) : undefined;
  const certNote = await certCheck(plugin);
  const pluginSeq = mergeSequential(chunks.plugin);
  const exporterSeq = mergeSequential(chunks.exporter);

  const through: Record<"ours" | "plugin" | "exporter", Throughput[]> = {
    ours: [],
    plugin: [],
    exporter: [],
  };
  for (const concurrency of CONCURRENCIES) {
    log(
      `${service.name}: ${THROUGHPUT_ROUNDS} x ${THROUGHPUT_CHECKS} checks at concurrency ${concurrency} per tool`,
    );
    // An untimed round of `concurrency` checks first: the servers spawn their processes for
    // that load then, not during the timed batch of whichever tool happens to come first.
    await oursThroughput(service.url, options, concurrency, concurrency);
    await pluginThroughput(plugin, concurrency, concurrency);
    const probe = () => exporter.probeOutcome(service.module, target);
    await runPool(concurrency, concurrency, probe);
    const rounds: Record<"ours" | "plugin" | "exporter", Throughput[]> = {
      ours: [],
      plugin: [],
      exporter: [],
    };
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      rounds.ours.push(await oursThroughput(service.url, options, THROUGHPUT_CHECKS, concurrency));
      rounds.plugin.push(await pluginThroughput(plugin, THROUGHPUT_CHECKS, concurrency));
      const cpuBefore = exporter.cpuMs();
      const batch = await runPool(THROUGHPUT_CHECKS, concurrency, probe);
      rounds.exporter.push({ ...batch, cpuMsPerCheck: (exporter.cpuMs() - cpuBefore) / THROUGHPUT_CHECKS });
    }
    through.ours.push(pooled(rounds.ours));
    through.plugin.push(pooled(rounds.plugin));
    through.exporter.push(pooled(rounds.exporter));
  }

  const tools: ToolResult[] = [
    {
      tool: "email-scout (in-process)",
      role: "ours",
      sequential: ours,
      throughput: through.ours,
      notes: [
        `responseMs: connect..capabilities${parseEndpointUrl(service.url).tls === "starttls" ? " after STARTTLS" : ""}, chain + name verified, no login; totalMs median ${fmt(ours.totalMs)}`,
      ],
    },
  ];
  if (service.plainUrl) {
    tools.push({
      tool: "email-scout, no TLS (as the plugin)",
      role: "plain",
      sequential: mergeSequential(chunks.plain),
      throughput: [],
      notes: [
        `${service.plainUrl}: greeting, capabilities, ${service.name === "imap" ? "LOGOUT" : "QUIT"}; the same work as ${plugin.plugin}`,
      ],
    });
  }
  if (cli) {
    tools.push({
      tool: "email-scout CLI (process per check)",
      role: "info",
      sequential: cli,
      throughput: [],
      notes: [`${CLI_RUNS} runs; CPU includes Node start-up`],
    });
  }
  tools.push(
    {
      tool: pluginName,
      role: "peer",
      sequential: pluginSeq,
      throughput: through.plugin,
      notes: [plugin.note, describePlugin(plugin), ...(certNote ? [certNote] : [])],
    },
    {
      tool: exporterName,
      role: "peer",
      sequential: exporterSeq,
      throughput: through.exporter,
      notes: ["probe_duration_seconds; CPU is the exporter's own (HTTP + probe), not the HTTP client's"],
    },
  );
  const likeForLike = new Set([exporterName, ...(plugin.note.includes("NO ") ? [] : [pluginName])]);
  return {
    report: { name: service.name, port: service.port, tools, likeForLike },
    phases: {
      service: service.name,
      phases: ours.phases,
      ...(ours.timesMs.length > 0 ? { responseMs: median(ours.timesMs) } : {}),
      ...(ours.totalMs !== undefined ? { totalMs: ours.totalMs } : {}),
    },
  };
}

/** Our chunks as one: all times; per phase and totalMs, the median of the chunks' medians. */
function mergeOurs(chunks: readonly OursSequential[]): OursSequential {
  const phases: Record<string, number> = {};
  for (const name of Object.keys(chunks[0]?.phases ?? {})) {
    phases[name] = median(chunks.map((c) => c.phases[name] ?? 0)) ?? 0;
  }
  const totals = chunks.flatMap((c) => (c.totalMs === undefined ? [] : [c.totalMs]));
  return { ...mergeSequential(chunks), phases, totalMs: median(totals) };
}

async function exporterSequential(
  exporter: Blackbox,
  module: string,
  target: string,
  runs: number,
): Promise<Sequential> {
  const timesMs: number[] = [];
  const errors: string[] = [];
  const cpuBefore = exporter.cpuMs();
  for (let i = 0; i < runs; i++) {
    const probe = await exporter.probe(module, target).catch((error: unknown) => ({
      ok: false,
      durationMs: undefined,
      error: String(error),
    }));
    if (probe.ok && probe.durationMs !== undefined) timesMs.push(probe.durationMs);
    else errors.push(probe.error ?? "no probe_duration_seconds");
  }
  return { timesMs, cpuMsPerCheck: (exporter.cpuMs() - cpuBefore) / runs, runs, errors };
}

function report(reports: ServiceReport[], phases: PhaseRow[], machine: string[], format: Format): string {
  const md = format === "md";
  // Markdown headings stand apart with blank lines, as `biome format` writes them.
  const heading = (text: string) => (md ? [`## ${text}`, ""] : [`##### ${text}`]);
  const item = (line: string) => (md ? `- ${line}` : line);
  const parameters =
    `${RUNS} sequential runs per tool and service for the times and CPU (after ${WARMUP} warm-up runs), in ${SEQUENTIAL_CHUNKS} chunks, the tools taking turns; ` +
    `checks/s from ${THROUGHPUT_ROUNDS} rounds of ${THROUGHPUT_CHECKS} checks per tool and concurrency level, the tools taking turns, pooled; everything against 127.0.0.1.`;
  return [
    ...(md ? ["# Email Scout vs monitoring-plugins and blackbox_exporter (demo mail host)", ""] : []),
    ...heading("Machine"),
    ...machine.map(item),
    item(parameters),
    "",
    ...heading("Per service"),
    ...reports.flatMap((r) => [renderService(r, format), ""]),
    ...heading("Where our time goes (median ms per phase, sequential runs)"),
    renderPhases(phases, format),
    "",
    ...heading("How each figure is measured"),
    ...METHOD.map((line) => `- ${line}`),
    "",
  ].join("\n");
}

const METHOD = [
  "reported time = each tool's own figure: ours responseMs (TCP connect through the last capabilities reply, DNS and QUIT left out); check_smtp perfdata time (connect through the QUIT reply); check_tcp family (check_ssmtp/simap/spop/imap/pop) perfdata time (connect, TLS, banner, QUIT sent, close); blackbox_exporter probe_duration_seconds (whole probe).",
  "CPU ms/check: ours = process.cpuUsage() of this process over the sequential runs / runs (one process, no start-up); plugins and CLI = user+system CPU of the child processes (bash `times`, RUSAGE_CHILDREN) over the batch / runs, process start-up included; exporter = its threads' run time (/proc/<pid>/task/*/schedstat) over the sequential probes / probes. CPU @64: the same for the timed batch at concurrency 64 (ours and the exporter only; the exporter's figure leaves out the HTTP client's CPU, which runs in this bench's process).",
  "checks/s: N checks with that many in flight, wall time: ours with checkMany in one process; plugins as that many concurrent processes; the exporter as that many concurrent HTTP GETs to /probe (keep-alive).",
  "The ~44 ms in smtp/submission capabilitiesAfterTls and in the smtps greeting is Postfix holding its reply (Nagle) until the client's delayed ACK (40 ms) of the TLS 1.3 session ticket it sends after the handshake. On 25/587 a client escapes it by sending EHLO only once the ticket is in, so the EHLO segment carries the ACK: Email Scout waits for the ticket (core/checks/tls-handshake.ts), check_smtp happens to write EHLO ~0.3 ms after its Finished, when the ticket has usually arrived. On 465 the server speaks first after the handshake, so every client pays it; Dovecot sets TCP_NODELAY and never stalls.",
  "IMAP/POP3 checks/s at 16 and 64 are bound by the server on 2 CPUs (Dovecot's login services fork a process per connection, service_count = 1), so all tools end up alike there.",
  "failures: failed runs / all runs (sequential + throughput). Peers verify less: check_* -D reads the expiry only (no chain, no name); check_imap/check_pop read the banner without TLS.",
];

async function main(): Promise<void> {
  const started = performance.now();
  ensurePeers(log);
  const caFile = ensureDemoHost(log);
  if (!existsSync(CLI)) log(`${CLI} is missing (npm run bench builds it): the CLI row is left out`);
  const services = SERVICES.filter((s) => !ONLY || ONLY.includes(s.name));
  if (services.length === 0)
    throw new Error(`--only matches no service; known: ${SERVICES.map((s) => s.name)}`);

  const dir = mkdtempSync(join(tmpdir(), "scout-bench-"));
  const exporter = await Blackbox.start(dir, caFile);
  log(`blackbox_exporter pid ${exporter.pid} on 127.0.0.1:${exporter.port} (config ${dir}/blackbox.yml)`);
  const onSignal = (signal: NodeJS.Signals) => {
    exporter.killNow();
    rmSync(dir, { recursive: true, force: true });
    log(`stopped by ${signal}`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", () => exporter.killNow());

  const reports: ServiceReport[] = [];
  const phases: PhaseRow[] = [];
  try {
    const options: CheckOptions = { caFile };
    for (const service of services) {
      const result = await benchService(service, exporter, options, caFile);
      reports.push(result.report);
      phases.push(result.phases);
    }
  } finally {
    await exporter.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const machine = machineLines();
  const seconds = (performance.now() - started) / 1000;
  machine.push(`bench wall time: ${seconds.toFixed(0)} s`);
  process.stdout.write(`${report(reports, phases, machine, "text")}\n`);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(RESULTS, report(reports, phases, machine, "md"));
  log(`wrote ${RESULTS}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
