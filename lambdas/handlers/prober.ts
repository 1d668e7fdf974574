import { SESClient } from "@aws-sdk/client-ses";
import type { Context } from "aws-lambda";
import { describeError } from "../../core/basics/describe-error.ts";
import { mapBounded } from "../../core/basics/map-bounded.ts";
import { checkMany } from "../../core/checks/check-many.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import { logCheckResult } from "../../core/cycle/check-log.ts";
import { type PlannedCheck, planChecks } from "../../core/cycle/check-plan.ts";
import { ROUND_TRIP_SUBJECT } from "../../core/events/status-changed.ts";
import type { LogFields } from "../../core/ports/logger.ts";
import type { MailSender } from "../../core/ports/mail-sender.ts";
import { sendProbe } from "../../core/roundtrip/send-probe.ts";
import { sweepOverdue } from "../../core/roundtrip/sweep.ts";
import { DynamoStatusSnapshot } from "../aws/dynamo-status-snapshot.ts";
import { ScoutMetrics } from "../aws/scout-metrics.ts";
import { SesMailSender } from "../aws/ses-mail-sender.ts";
import { parseScheduledEvent } from "../events/scheduled-event.ts";
import { ENV, optionalEnv } from "../runtime/env.ts";
import { AWS_CLIENT_DEFAULTS, once } from "../runtime/lambda-basics.ts";
import { readLoginPasswords } from "../runtime/login-passwords.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../runtime/runtime.ts";
import { ScoutEvents } from "../runtime/scout-events.ts";

/**
 * DynamoDB calls (and target event builds) in flight at once: enough to hide the calls' latency,
 * few enough that none waits for one of the SDK's 50 sockets long enough for its connection
 * timeout to fire (which lost results when all of a cycle's writes were sent at once).
 */
export const STORE_CONCURRENCY = 32;

/** What one run did; also logged. A failure of one target is in `errors`, never a thrown error. */
export interface ProberSummary {
  checks: number;
  /** Checks whose status is not OK. */
  notOk: number;
  probesSent: number;
  sendFailed: number;
  /** Probes this run swept from sent to lost. */
  lost: number;
  /** Events queued (or, without EVENTS_QUEUE_URL, logged). */
  events: number;
  errors: ProberError[];
}

export interface ProberError {
  step: "plan" | "store-check" | "probe" | "sweep" | "key" | "statuses" | "events";
  target?: string;
  error: string;
}

interface ProberRuntime extends Runtime {
  readonly sender: MailSender;
  /** The probes' From header. */
  readonly from: string;
}

/**
 * The prober Lambda, run by an EventBridge schedule: every service check of every target
 * (bounded concurrency), one round-trip probe per probe target sent with SES, then a sweep of
 * overdue probes to lost. The same cycle as local mode's LocalMonitor.runCycle, on AWS adapters.
 */
export function createProberHandler(options: RuntimeOptions & { readonly ses?: SESClient } = {}) {
  const runtime = once((): ProberRuntime => {
    const shared = createRuntime(options);
    const { config } = shared;
    return {
      ...shared,
      sender: new SesMailSender(options.ses ?? new SESClient(AWS_CLIENT_DEFAULTS)),
      from: optionalEnv(ENV.sesFrom, shared.env) ?? config.outbound.from ?? config.inbound.returnAddress,
    };
  });
  return async (event: unknown, context?: Context): Promise<ProberSummary> => {
    const scheduled = parseScheduledEvent(event);
    const wired = await runtime();
    wired.useLambdaContext(context);
    const metrics = new ScoutMetrics();
    try {
      const summary = await runProberCycle(wired, metrics);
      wired.log.info("prober run done", { scheduledAt: scheduled.time, ...countsOf(summary) });
      return summary;
    } finally {
      metrics.flush();
    }
  };
}

/** The Lambda entry point (PROBER handler "prober.handler"). */
export const handler = createProberHandler();

interface Cycle {
  readonly rt: ProberRuntime;
  /** When the run began (the runtime's clock). */
  readonly startMs: number;
  readonly metrics: ScoutMetrics;
  readonly events: ScoutEvents;
  readonly summary: ProberSummary;
}

async function runProberCycle(rt: ProberRuntime, metrics: ScoutMetrics): Promise<ProberSummary> {
  const summary: ProberSummary = {
    checks: 0,
    notOk: 0,
    probesSent: 0,
    sendFailed: 0,
    lost: 0,
    events: 0,
    errors: [],
  };
  // One Query for every status, while the checks run; changed statuses only are written back.
  const statuses = new DynamoStatusSnapshot({
    store: rt.statuses,
    retentionDays: rt.retentionDays,
    sharedSubject: (subject) => subject === ROUND_TRIP_SUBJECT,
  });
  statuses.preload();
  const cycle: Cycle = {
    rt,
    startMs: rt.clock.now(),
    metrics,
    events: new ScoutEvents(rt, statuses),
    summary,
  };
  await Promise.all([runChecks(cycle), sendProbes(cycle)]);
  await sweep(cycle);
  if (statuses.loadError !== undefined) {
    // The run went on reading and writing each status on its own, as before the snapshot.
    recordError(cycle, { step: "statuses" }, "cannot read the statuses in one query", statuses.loadError);
  }
  try {
    summary.events = await cycle.events.publish();
  } catch (error) {
    // Status changes and certificate reminders stay due and go with the next run.
    recordError(cycle, { step: "events" }, "cannot queue events", error);
  }
  return summary;
}

/** A step's failure: kept in the summary and logged (with `logFields`); the run goes on. */
function recordError(
  cycle: Cycle,
  where: Omit<ProberError, "error">,
  message: string,
  error: unknown,
  logFields: LogFields = {},
): void {
  const text = describeError(error);
  cycle.summary.errors.push({ ...where, error: text });
  const target = where.target === undefined ? {} : { target: where.target };
  cycle.rt.log.error(message, { ...target, ...logFields, error: text });
}

/** Builds a step's events; a failure (the status store) is reported and the run goes on. */
async function buildEvents(cycle: Cycle, target: string, build: () => Promise<void>): Promise<void> {
  try {
    await build();
  } catch (error) {
    recordError(cycle, { step: "events", target }, "cannot build events", error);
  }
}

async function runChecks(cycle: Cycle): Promise<void> {
  const { rt, metrics, summary } = cycle;
  let planned: PlannedCheck[];
  try {
    const readPassword = await readLoginPasswords(rt.config, rt.secrets);
    // planChecks reads only `targets` and `outbound`, which the deploy config has in full.
    planned = planChecks(rt.config, readPassword);
  } catch (error) {
    recordError(cycle, { step: "plan" }, "cannot plan the service checks", error);
    return;
  }
  const results = await checkMany(
    planned.map((check) => ({ endpoint: check.endpoint, options: check.options })),
    { concurrency: rt.config.schedule.checkConcurrency },
  );
  summary.checks = results.length;
  summary.notOk = results.filter((result) => result.status !== "OK").length;
  const entries = results.map((result, index) => ({
    targetId: (planned[index] as PlannedCheck).targetId,
    result,
  }));
  const byTarget = new Map<string, CheckResult[]>();
  for (const { targetId, result } of entries) {
    reportCheck(rt, metrics, targetId, result);
    const targetResults = byTarget.get(targetId);
    if (targetResults === undefined) byTarget.set(targetId, [result]);
    else targetResults.push(result);
  }
  await Promise.all([
    storeChecks(cycle, entries),
    // Targets in parallel: each has its own subjects, and one target's results go in order.
    mapBounded([...byTarget], STORE_CONCURRENCY, ([targetId, targetResults]) =>
      buildEvents(cycle, targetId, () => cycle.events.checks(targetId, targetResults)),
    ),
  ]);
}

function reportCheck(rt: ProberRuntime, metrics: ScoutMetrics, targetId: string, result: CheckResult): void {
  metrics.checkResult(targetId, result);
  logCheckResult(rt.log, targetId, result);
}

/**
 * Stores the results in batch writes. The latest-result items go in the batches too (which
 * cannot be conditional) only while no later run can have stored newer ones: a run starts
 * once per interval, so during the first half of this run's interval none has.
 */
async function storeChecks(
  cycle: Cycle,
  entries: readonly { targetId: string; result: CheckResult }[],
): Promise<void> {
  const { rt } = cycle;
  const intervalMs = rt.config.schedule.intervalSeconds * 1000;
  const errors = await rt.checks.saveCheckResults(entries, {
    concurrency: STORE_CONCURRENCY,
    latestUnconditionally: () => rt.clock.now() - cycle.startMs < intervalMs / 2,
  });
  errors.forEach((error, index) => {
    if (error === undefined) return;
    const { targetId, result } = entries[index] as { targetId: string; result: CheckResult };
    recordError(cycle, { step: "store-check", target: targetId }, "cannot store a check result", error, {
      endpoint: result.endpoint,
    });
  });
}

async function sendProbes(cycle: Cycle): Promise<void> {
  const { rt, metrics, summary } = cycle;
  const targets = rt.config.targets.filter((target) => target.probe !== undefined);
  if (targets.length === 0) return;
  let key: Buffer;
  try {
    key = await rt.probeKey();
  } catch (error) {
    recordError(cycle, { step: "key" }, "cannot read the probe key; no probes this run", error);
    return;
  }
  // Bounded too: each probe is a PutItem and an SES call, and a thousand targets would queue
  // them on the sockets past their connection timeout.
  await mapBounded(targets, STORE_CONCURRENCY, async (target) => {
    try {
      const probe = await sendProbe(
        {
          targetId: target.id,
          to: target.probe?.to as string,
          from: rt.from,
          inboundDomain: rt.config.inbound.domain,
          deadlineMs: rt.config.roundTrip.deadlineSeconds * 1000,
        },
        { store: rt.probes, sender: rt.sender, key, clock: rt.clock, log: rt.log },
      );
      const failed = probe.state === "send-failed";
      if (failed) {
        summary.sendFailed += 1;
        await buildEvents(cycle, target.id, () => cycle.events.roundTrip(probe));
      } else summary.probesSent += 1;
      // Every probe target reports 0 or 1 each run, so an alarm sees data, not silence.
      metrics.probeCount("ProbeSendFailed", target.id, failed ? 1 : 0);
    } catch (error) {
      // The store refused the probe: nothing was sent.
      recordError(cycle, { step: "probe", target: target.id }, "cannot send or record a probe", error);
    }
  });
}

async function sweep(cycle: Cycle): Promise<void> {
  const { rt, metrics, summary } = cycle;
  const lostByTarget = new Map<string, number>(
    rt.config.targets.filter((target) => target.probe !== undefined).map((target) => [target.id, 0]),
  );
  try {
    for (const probe of await sweepOverdue(rt.probes, rt.clock)) {
      lostByTarget.set(probe.targetId, (lostByTarget.get(probe.targetId) ?? 0) + 1);
      summary.lost += 1;
      rt.log.warn("probe lost", {
        target: probe.targetId,
        probe: probe.probeId,
        sentAt: new Date(probe.sentAtMs).toISOString(),
      });
      await buildEvents(cycle, probe.targetId, () => cycle.events.roundTrip(probe));
    }
  } catch (error) {
    recordError(cycle, { step: "sweep" }, "cannot sweep overdue probes", error);
  }
  for (const [target, lost] of lostByTarget) metrics.probeCount("ProbeLost", target, lost);
}

function countsOf(summary: ProberSummary): Record<string, number> {
  const { errors, ...counts } = summary;
  return { ...counts, errors: errors.length };
}
