/*
 * Process start-up of a check, as Nagios and Icinga pay it (one process per check), side by
 * side in one run: a bare `node -e 0` (the floor for anything in Node), `email-scout check`
 * and `status --nagios` as whole processes, and the monitoring-plugins' C check_smtp. Runs
 * interleave (one of each in turn) so load on the machine touches all alike. Needs the demo
 * mail host (scripts/demo-mailhost.sh up) and the build (dist/).
 *
 *   wall: median of each process's wall time;  CPU: children's user+system (bash `times`)
 *   over the batch / runs;  RSS: median peak resident set (GNU time %M).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runBatch } from "../child-cpu.ts";
import { ensurePeers } from "../install.ts";
import { PLUGIN_DIR } from "../services.ts";
import { median } from "../stats.ts";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 20);
const CLI = "dist/email-scout.mjs";
const CA = process.env.SCOUT_DEMO_CA ?? "/var/lib/email-scout-demo/ca.pem";
const HOST = process.env.SCOUT_DEMO_HOST ?? "127.0.0.1";

interface Contender {
  readonly name: string;
  readonly program: string;
  readonly args: readonly string[];
}

function contenders(): Contender[] {
  return [
    { name: "node -e 0 (floor)", program: process.execPath, args: ["-e", "0"] },
    {
      name: "email-scout check smtp://",
      program: CLI,
      args: [`smtp://${HOST}`, "--ca-file", CA].map(String),
    },
    {
      name: "email-scout check imaps://",
      program: CLI,
      args: [`imaps://${HOST}`, "--ca-file", CA],
    },
    {
      name: "check_smtp -S (C plugin)",
      program: join(PLUGIN_DIR, "check_smtp"),
      args: ["-H", HOST, "-S", "-D", "20,10"],
    },
  ]
    .map((c) => (c.program === CLI ? { ...c, args: ["check", ...c.args] } : c))
    .concat(
      // The way for large installs: read serve's results (needs serve's database for the demo).
      existsSync(".data/demo/scout.db")
        ? [
            {
              name: "email-scout status --nagios",
              program: CLI,
              args: ["status", "--config", "config/demo.yaml", "--nagios", `demo/smtp://${HOST}`],
            },
          ]
        : [],
    );
}

function wallMs(c: Contender): number {
  const started = process.hrtime.bigint();
  spawnSync(c.program, [...c.args], { stdio: "ignore" });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function peakRssKb(c: Contender): number | undefined {
  const run = spawnSync("/usr/bin/time", ["-f", "%M", c.program, ...c.args], { encoding: "utf8" });
  const lines = run.stderr.trim().split("\n");
  const kb = Number(lines.at(-1));
  return Number.isFinite(kb) ? kb : undefined;
}

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  ensurePeers((line) => process.stderr.write(`bench: ${line}\n`));
  const all = contenders();
  const walls = new Map<string, number[]>(all.map((c) => [c.name, []]));
  const rss = new Map<string, number[]>(all.map((c) => [c.name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const c of all) {
      walls.get(c.name)?.push(wallMs(c));
      if (round < 5) {
        const kb = peakRssKb(c);
        if (kb !== undefined) rss.get(c.name)?.push(kb);
      }
    }
  }
  const cpu = new Map<string, number | undefined>();
  for (const c of all) {
    const batch = await runBatch(c.program, c.args, RUNS, 120_000);
    cpu.set(c.name, batch.childCpuMs === undefined ? undefined : batch.childCpuMs / RUNS);
  }
  const floor = all[0] as Contender;
  const floorWall = median(walls.get(floor.name) ?? []) ?? Number.NaN;
  const floorCpu = cpu.get(floor.name) ?? Number.NaN;
  const rows = all.map((c) => {
    const wall = median(walls.get(c.name) ?? []) ?? Number.NaN;
    const cpuMs = cpu.get(c.name) ?? Number.NaN;
    const kb = median(rss.get(c.name) ?? []);
    return [
      c.name,
      wall.toFixed(1),
      `${(wall / floorWall).toFixed(2)}x`,
      cpuMs.toFixed(1),
      `${(cpuMs / floorCpu).toFixed(2)}x`,
      kb === undefined ? "?" : (kb / 1024).toFixed(0),
    ];
  });
  const header = ["process", "wall ms (median)", "wall / node", "CPU ms/run", "CPU / node", "peak RSS MiB"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i] as number)).join("  ");
  process.stdout.write(
    [
      `Start-up of one check as a whole process, ${RUNS} runs each, interleaved, against the demo mail host`,
      line(header),
      line(widths.map((w) => "-".repeat(w))),
      ...rows.map(line),
      "Target (issue: a check costs at most 2x a bare node -e 0 in CPU and wall). The check includes its",
      "network dialogue (STARTTLS, TLS, capabilities, QUIT); node -e 0 does none of it.",
      "",
    ].join("\n"),
  );
}

await main();
