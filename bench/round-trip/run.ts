/*
 * npm run bench:round-trip: the round trip's own costs on this machine.
 * (The RTT overhead through Postfix is measured by the integration tests' 2 s pipe, not here yet.)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { machineLines } from "../machine.ts";
import { fmt } from "../stats.ts";
import { benchEmailReturn } from "./email-return.ts";
import { benchReturns } from "./returns.ts";

const ROOT = join(import.meta.dirname, "../..");
const returns = await benchReturns(1000);
const emailReturn = await benchEmailReturn(join(ROOT, "dist/email_return.cjs"), 20);

const lines = [
  "# Email Scout round trip: its own costs",
  "",
  ...machineLines().map((line) => `- ${line}`),
  "",
  "| measure | value | target |",
  "|---|---|---|",
  `| returns processed, spool -> SQLite (${returns.count}, sequential as the monitor does) | ${fmt(returns.perSecond, 0)} /s (${returns.returned} returned) | >= 500/s: ${returns.perSecond >= 500 ? "met" : "NOT met"} |`,
  `| latency per return p50 / p99 | ${fmt(returns.p50Ms, 2)} / ${fmt(returns.p99Ms, 2)} ms | |`,
  `| email_return per message (${emailReturn.runs} runs, Node start-up included) median / p95 | ${fmt(emailReturn.medianMs, 0)} / ${fmt(emailReturn.p95Ms, 0)} ms | |`,
  `| email_return peak RSS, small probe / 50 MB message | ${fmt(emailReturn.peakRssMb, 0)} / ${fmt(emailReturn.peakRss50MbInputMb, 0)} MB | bounded (not ~50 MB more) |`,
  "",
];
const text = lines.join("\n");
process.stdout.write(`${text}\n`);
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/round-trip.md"), text);
