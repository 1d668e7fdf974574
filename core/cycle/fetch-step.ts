import { mapBounded } from "../basics/map-bounded.ts";
import type { FetchConfig } from "../config/fetch-schema.ts";
import type { JobConfig } from "../ports/job-ports.ts";
import type { MailboxSession } from "../ports/mailbox.ts";
import {
  awaitProbe,
  type FetchFinding,
  type FetchProbesDeps,
  takeDeliveredProbes,
} from "../roundtrip/fetch-probes.ts";
import type { TargetKeyRings } from "../roundtrip/target-key-rings.ts";
import { trustedAuthservIdsOf } from "../verdicts/trusted-authserv-ids.ts";
import { addEvents, type CycleRun, recordCycleError } from "./cycle-run.ts";
import { ringOf, sendTargetProbe } from "./send-target-probe.ts";

type Target = JobConfig["targets"][number];

/**
 * One round trip in fetch mode: the mailbox is opened first (logged in, INBOX selected, so none
 * of that is counted in the round trip), the probe is sent, then every probe in the mailbox is
 * taken (this one, and earlier cycles' ones: delivered, or late after lost) and the cycle waits
 * for its own up to fetch.waitSeconds. One not seen by then stays "sent": the next cycle's look
 * finds it, and the sweep looks once more before it declares it lost past its deadline. A
 * mailbox that cannot be opened does not stop the probe: it is sent all the same and looked for
 * later.
 */
export async function roundTripByFetch(run: CycleRun, target: Target, rings: TargetKeyRings): Promise<void> {
  const { ports } = run;
  const fetch = target.probe?.fetch as FetchConfig;
  const ring = ringOf(run, target, rings);
  if (ring === undefined) return;
  const session = await openMailbox(run, target.id, fetch);
  try {
    const probe = await sendTargetProbe(run, target, ring);
    const failed = probe.state === "send-failed";
    if (session === undefined) return;
    const untilMs = failed
      ? ports.clock.now()
      : Math.min(probe.sentAtMs + fetch.waitSeconds * 1000, probe.deadlineMs);
    const deps = fetchDeps(run, target, fetch, rings);
    const findings = await awaitProbe(
      session,
      probe.probeId,
      { untilMs, pollMs: fetch.pollSeconds * 1000 },
      deps,
    );
    await report(run, target.id, findings);
  } catch (error) {
    recordCycleError(
      run,
      { step: "probe", target: target.id },
      "cannot complete a fetch-mode round trip",
      error,
    );
  } finally {
    await session?.close().catch(() => {});
  }
}

/** Overdue probes read per sweep when looking for fetch-mode ones; as many as one sweep moves. */
const OVERDUE_LIMIT = 500;
const LOOK_CONCURRENCY = 16;

/**
 * Before the sweep moves fetch-mode probes to lost, their mailboxes are looked in once more:
 * a probe that arrived after its cycle's wait (on AWS, after the prober's run) is recorded as
 * delivered rather than lost. Only targets with an overdue probe are opened, so a healthy target
 * costs no login here. Failures are cycle errors; the sweep goes on.
 */
export async function lookForOverdueFetchProbes(run: CycleRun): Promise<void> {
  const { ports } = run;
  const fetchTargets = run.targets.filter((target) => target.probe?.fetch !== undefined);
  if (fetchTargets.length === 0) return;
  let rings: TargetKeyRings;
  let overdueTargets: Set<string>;
  try {
    const overdue = await ports.probes.overdue(ports.clock.now(), OVERDUE_LIMIT);
    overdueTargets = new Set(overdue.map((probe) => probe.targetId));
    if (!fetchTargets.some((target) => overdueTargets.has(target.id))) return;
    rings = await ports.probeKeys();
  } catch (error) {
    recordCycleError(run, { step: "fetch" }, "cannot look for overdue probes in their mailboxes", error);
    return;
  }
  const due = fetchTargets.filter((target) => overdueTargets.has(target.id));
  await mapBounded(due, LOOK_CONCURRENCY, async (target) => {
    const fetch = target.probe?.fetch as FetchConfig;
    const session = await openMailbox(run, target.id, fetch);
    if (session === undefined) return;
    try {
      await report(run, target.id, await takeDeliveredProbes(session, fetchDeps(run, target, fetch, rings)));
    } catch (error) {
      recordCycleError(run, { step: "fetch", target: target.id }, "cannot read the probe mailbox", error);
    } finally {
      await session.close().catch(() => {});
    }
  });
}

async function openMailbox(
  run: CycleRun,
  targetId: string,
  fetch: FetchConfig,
): Promise<MailboxSession | undefined> {
  const opener = run.ports.mailboxes;
  try {
    if (opener === undefined) throw new Error("this shell opens no mailboxes");
    return await opener.open(targetId, fetch);
  } catch (error) {
    recordCycleError(
      run,
      { step: "fetch", target: targetId },
      "cannot open the probe mailbox; its probes are looked for next cycle",
      error,
    );
    return undefined;
  }
}

function fetchDeps(
  run: CycleRun,
  target: Target,
  fetch: FetchConfig,
  rings: TargetKeyRings,
): FetchProbesDeps {
  const { ports } = run;
  return {
    targetId: target.id,
    trustedAuthservIds: trustedAuthservIdsOf(target),
    store: ports.probes,
    rings,
    clock: ports.clock,
    log: ports.log,
    maxAgeMs: ports.config.roundTrip.maxAgeSeconds * 1000,
    deleteAfterFetch: fetch.deleteAfterFetch,
  };
}

/** Metrics, a log line and the events of each probe found; what was not a probe of ours is only logged. */
async function report(run: CycleRun, targetId: string, findings: readonly FetchFinding[]): Promise<void> {
  const { ports } = run;
  for (const finding of findings) {
    if (finding.kind === "returned" || finding.kind === "late") {
      const { probe } = finding;
      run.summary.delivered += 1;
      ports.metrics.probeCorrelated(finding.kind, probe);
      ports.log.info(`probe ${finding.kind === "returned" ? "delivered" : "late"}`, {
        target: targetId,
        probe: probe.probeId,
        rttMs: probe.rttMs,
        folder: probe.folder,
      });
      await addEvents(run, targetId, () => run.batch.addRoundTrip(probe));
    } else if (finding.kind === "ignored") {
      ports.log.info("mailbox message left alone", {
        target: targetId,
        reason: finding.reason,
        probe: finding.probeId,
      });
    }
  }
}
