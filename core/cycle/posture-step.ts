import { mapBounded } from "../basics/map-bounded.ts";
import type { TargetConfig } from "../config/schema.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import { bannerHostsOf } from "../posture/banner-hosts.ts";
import { checkPosture } from "../posture/check-posture.ts";
import { POSTURE_SUBJECT_PREFIX, postureCheckResult } from "../posture/posture-check-result.ts";
import { postureOptionsForTarget } from "../posture/posture-options-for-target.ts";
import { postureResolverFor } from "../posture/posture-resolver.ts";
import { recordResults } from "./check-step.ts";
import { type CycleRun, recordCycleError } from "./cycle-run.ts";

/**
 * The mail DNS posture of every target that names a domain, each on its own schedule: a
 * target's posture is checked when its last stored posture result of that domain is
 * `posture.intervalSeconds` old, less half a cycle (so an hourly posture on a one-minute cycle
 * runs every hour, not every 61 minutes). The last run is read from the store, so neither a
 * restart of `serve` nor a Lambda cold start checks again early. Each check's result (mx, spf,
 * dmarc, and whatever checkPosture adds) then goes the service checks' way: recordResults.
 * A DNS failure, a check that throws and one that outlasts `posture.budgetSeconds` are each an
 * UNKNOWN result of that check beside the others' (checkPosture), so the run is stored and not
 * repeated next cycle; a failure around the checks (the store) is a cycle error.
 */
export async function runPosture(run: CycleRun): Promise<void> {
  const { ports, summary } = run;
  const targets = run.targets.filter((target) => target.domain !== undefined);
  if (targets.length === 0) return;
  let resolver: DnsResolver;
  try {
    resolver = ports.postureResolver ?? postureResolverFor(ports.config.posture);
  } catch (error) {
    recordCycleError(
      run,
      { step: "posture" },
      "cannot find the resolver for the posture checks: set posture.resolver (IP[:PORT])",
      error,
    );
    return;
  }
  await mapBounded(targets, ports.config.schedule.checkConcurrency, async (target) => {
    const domain = target.domain as string;
    try {
      if (!(await isPostureDue(run, target.id, domain))) return;
      const startedMs = ports.clock.now();
      // The greetings the target's port-25 checks last saw, for reverse DNS to compare with PTR names.
      const bannerHosts = bannerHostsOf(await ports.checks.latestCheckResultsOf(target.id, "smtp://"));
      const options = postureOptionsForTarget(target, {
        config: ports.config,
        probeFrom: ports.probeFrom,
        bannerHosts,
      });
      const results = (await checkPosture(resolver, domain, options)).map((result) =>
        postureCheckResult(result, startedMs),
      );
      summary.postureChecks += results.length;
      await recordResults(
        run,
        results.map((result) => ({ targetId: target.id, result })),
      );
    } catch (error) {
      recordCycleError(run, { step: "posture", target: target.id }, "cannot check the posture", error, {
        domain,
      });
    }
  });
}

/** Whether the target's posture of `domain` is due: never checked, or last checked long enough ago. */
async function isPostureDue(run: CycleRun, targetId: TargetConfig["id"], domain: string): Promise<boolean> {
  const { config, checks, clock } = run.ports;
  const latest = await checks.latestCheckResultsOf(targetId, POSTURE_SUBJECT_PREFIX);
  const lastMs = Math.max(
    ...latest
      .filter((result) => result.posture?.domain.toLowerCase() === domain.toLowerCase())
      .map((result) => Date.parse(result.startedAt))
      .filter((ms) => !Number.isNaN(ms)),
  );
  if (lastMs === -Infinity) return true;
  const dueAfterMs = config.posture.intervalSeconds * 1000 - (config.schedule.intervalSeconds * 1000) / 2;
  return clock.now() - lastMs >= dueAfterMs;
}
