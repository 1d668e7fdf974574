import type { Context } from "aws-lambda";
import { describeError } from "../../core/basics/describe-error.ts";
import type { CycleSummary } from "../../core/cycle/cycle-ports.ts";
import { runCycle } from "../../core/cycle/run-cycle.ts";
import { ScoutMetrics } from "../aws/scout-metrics.ts";
import { parseProberEvent } from "../events/prober-event.ts";
import { once } from "../runtime/lambda-basics.ts";
import { createProberRuntime, type ProberOptions, proberCyclePorts } from "../runtime/prober-runtime.ts";

/** What one run did (the core's cycle summary); also logged. */
export type ProberSummary = CycleSummary;

/**
 * The prober Lambda, run by EventBridge schedule rules: the core's cycle (service checks, one
 * probe per round-trip target sent with SES, the sweep of overdue probes) on the AWS adapters,
 * for every target or for the one shard the event names, with EMF metrics flushed even when the
 * run fails.
 */
export function createProberHandler(options: ProberOptions = {}) {
  const runtime = once(() => createProberRuntime(options));
  return async (event: unknown, context?: Context): Promise<ProberSummary> => {
    const invocation = parseProberEvent(event);
    const rt = await runtime();
    rt.useLambdaContext(context);
    const metrics = new ScoutMetrics();
    try {
      const { ports, statuses } = proberCyclePorts(rt, metrics, invocation.shard);
      const summary = await runCycle(ports);
      if (statuses.loadError !== undefined) {
        // The run went on reading and writing each status on its own: slower, not wrong.
        summary.errors.push({ step: "statuses", error: describeError(statuses.loadError) });
        rt.log.error("cannot read the statuses in one query", { error: describeError(statuses.loadError) });
      }
      const { errors, ...counts } = summary;
      const shard = invocation.shard ? { shard: invocation.shard.index, shards: invocation.shard.count } : {};
      rt.log.info("prober run done", {
        scheduledAt: invocation.scheduledAt,
        ...shard,
        ...counts,
        errors: errors.length,
      });
      return summary;
    } finally {
      metrics.flush();
    }
  };
}

/** The Lambda entry point (PROBER handler "prober.handler"). */
export const handler = createProberHandler();
