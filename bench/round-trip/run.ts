/*
 * npm run bench:round-trip: the round trip's own costs on this machine, and the monitor's
 * overhead on real round trips through the demo host's Postfix (scripts/demo-mailhost.sh up).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SPOOL_CONCURRENCY } from "../../local/serve/spool-drainer.ts";
import { machineLines } from "../machine.ts";
import { fmt } from "../stats.ts";
import { benchEmailReturn } from "./email-return.ts";
import { benchFetchMode } from "./fetch-mode.ts";
import { benchReturns } from "./returns.ts";
import { benchThroughPostfix, SLEEP_MS } from "./through-postfix.ts";

const ROOT = join(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "dist/email_return.cjs");
const PERL_SCRIPT = join(ROOT, "dist/email_return.pl");
const started = Date.now();
// A warm-up batch first: a running monitor has mailparser loaded and its code compiled.
await benchReturns(200);
const returns = await benchReturns(1000);
const emailReturn = await benchEmailReturn(SCRIPT, 20);
// The same probe through the Perl script, run the way its .forward line runs it (#!/usr/bin/perl).
const emailReturnPerl = await benchEmailReturn(PERL_SCRIPT, 20, null);
const loops = await benchThroughPostfix(SCRIPT, 20);
const fetchMode = await benchFetchMode(20);
const slow = loops.find((loop) => loop.user === "probe-slow");
const fast = loops.find((loop) => loop.user === "probe");

const met = (ok: boolean) => (ok ? "met" : "NOT met");
const lines = [
  "# Email Scout round trip: its own costs",
  "",
  ...machineLines().map((line) => `- ${line}`),
  `- whole run: ${fmt((Date.now() - started) / 1000, 0)} s`,
  "",
  "| measure | value | target |",
  "|---|---|---|",
  `| returns processed, spool -> SQLite (${returns.count}, as the monitor does: ${SPOOL_CONCURRENCY} side by side) | ${fmt(returns.perSecond, 0)} /s (${returns.returned} returned) | >= 500/s: ${met(returns.perSecond >= 500)} |`,
  `| latency per return p50 / p99 | ${fmt(returns.p50Ms, 2)} / ${fmt(returns.p99Ms, 2)} ms | |`,
  `| email_return per message (${emailReturn.runs} runs each, start-up included) median / p95: Node (.cjs) / Perl (.pl) | ${fmt(emailReturn.medianMs, 0)} / ${fmt(emailReturn.p95Ms, 0)} ms / ${fmt(emailReturnPerl.medianMs, 0)} / ${fmt(emailReturnPerl.p95Ms, 0)} ms | |`,
  `| email_return peak RSS, small probe / 50 MB message: Node / Perl | ${fmt(emailReturn.peakRssMb, 0)} / ${fmt(emailReturn.peakRss50MbInputMb, 0)} MB / ${fmt(emailReturnPerl.peakRssMb, 0)} / ${fmt(emailReturnPerl.peakRss50MbInputMb, 0)} MB | bounded (not ~50 MB more) |`,
  ...(slow
    ? [
        `| round trip via Postfix to probe-slow (pipe sleeps ${SLEEP_MS} ms), RTT − ${SLEEP_MS} ms p50 / p95 / max (${slow.returned}/${slow.probes} returned) | ${fmt(slow.p50Ms, 0)} / ${fmt(slow.p95Ms, 0)} / ${fmt(slow.maxMs, 0)} ms | p95 < 100 ms: ${met(slow.p95Ms < 100)} |`,
      ]
    : []),
  ...(fast
    ? [
        `| baseline: round trip via Postfix to probe (no sleep), RTT p50 / p95 / max (${fast.returned}/${fast.probes} returned) | ${fmt(fast.p50Ms, 0)} / ${fmt(fast.p95Ms, 0)} / ${fmt(fast.maxMs, 0)} ms | |`,
      ]
    : []),
  ...loops.map(
    (loop) =>
      `| ${loop.user}: out leg (send -> email_return running, sleep removed) / back leg (email_return -> spooled), p50 (p95) | ${fmt(loop.outboundMs[0], 0)} (${fmt(loop.outboundMs[1], 0)}) / ${fmt(loop.returnMs[0], 0)} (${fmt(loop.returnMs[1], 0)}) ms | |`,
  ),
  `| fetch mode (IMAP IDLE, ${fetchMode.found}/${fetchMode.probes} found): arrival in Maildir/new -> monitor knows, p50 / p95 | ${fmt(fetchMode.arrivalToKnown[0], 0)} / ${fmt(fetchMode.arrivalToKnown[1], 0)} ms (${fetchMode.arrivalToKnownMs.length} timed) | |`,
  `| fetch mode: RTT − the delivery time Postfix logs (delay=), p50 / p95 | ${fmt(fetchMode.overPostfixDelay[0], 0)} / ${fmt(fetchMode.overPostfixDelay[1], 0)} ms (${fetchMode.overPostfixDelayMs.length} timed) | p95 < 200 ms: ${met(fetchMode.overPostfixDelay[1] < 200)} |`,
  `| fetch mode: whole RTT (send -> found), p50 / p95 | ${fmt(fetchMode.rtt[0], 0)} / ${fmt(fetchMode.rtt[1], 0)} ms | |`,
  "",
  "Fetch mode's arrival is the moment the delivery's file appears in the mailbox's Maildir/new",
  "(an inotify watch in the bench); the monitor knows the probe when its IDLE session saw it,",
  "fetched its header and checked its token. Postfix's delay= has 10 ms resolution.",
  "",
  "The round trips run one at a time (one probe per cycle, then wait for it). Their RTT is",
  "monitor clock at send to monitor clock at spool, so it holds Postfix's submission, queue",
  "manager, local delivery, the pipe (node start-up of email_return) and the relay back, not",
  "only the monitor's own work; the monitor's part alone is the spool -> SQLite latency above.",
  "",
];
const text = lines.join("\n");
process.stdout.write(`${text}\n`);
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/round-trip.md"), text);
