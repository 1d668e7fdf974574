import { sweepOverdue } from "../roundtrip/sweep.ts";
import { addEvents, type CycleRun, recordCycleError } from "./cycle-run.ts";
import { lookForOverdueFetchProbes } from "./fetch-step.ts";

/** Outcomes of earlier runs taken up per cycle: a backlog clears over cycles, never in one burst. */
export const LEFTOVERS_PER_CYCLE = 100;

/**
 * Sweeps the run's own overdue probes to lost, each with its events; every probe target of the
 * shard reports a count. Shards run side by side: each takes only the probes it owns, and the
 * move is conditional besides, so a probe's lost events are built once, by the shard that moved it.
 */
export async function sweepLost(run: CycleRun): Promise<void> {
  const { ports, summary } = run;
  // A fetch-mode probe may be in its mailbox after all: found there, it is delivered, not lost.
  await lookForOverdueFetchProbes(run);
  const lostByTarget = new Map<string, number>(
    run.targets.filter((target) => target.probe !== undefined).map((target) => [target.id, 0]),
  );
  try {
    for (const probe of await sweepOverdue(ports.probes, ports.clock, { owns: run.owns })) {
      lostByTarget.set(probe.targetId, (lostByTarget.get(probe.targetId) ?? 0) + 1);
      summary.lost += 1;
      ports.log.warn("probe lost", {
        target: probe.targetId,
        probe: probe.probeId,
        sentAt: new Date(probe.sentAtMs).toISOString(),
      });
      await addEvents(run, probe.targetId, () => run.batch.addRoundTrip(probe));
    }
  } catch (error) {
    recordCycleError(run, { step: "sweep" }, "cannot sweep overdue probes", error);
  }
  for (const [target, lost] of lostByTarget) ports.metrics.probesLost(target, lost);
}

/**
 * Announces outcomes an earlier run stored but whose roundtrip.completed never reached the sink
 * (a refused queue, a crash in between): same event ids, so consumers see each once. Each shard
 * announces the outcomes of the probes it owns, so shards running together never offer one twice.
 */
export async function announceLeftovers(run: CycleRun): Promise<void> {
  const { ports, summary } = run;
  let leftovers: Awaited<ReturnType<typeof ports.probes.unannouncedOutcomes>>;
  try {
    leftovers = (await ports.probes.unannouncedOutcomes(LEFTOVERS_PER_CYCLE)).filter((probe) =>
      run.owns(probe.targetId),
    );
  } catch (error) {
    recordCycleError(run, { step: "announce" }, "cannot read unannounced round trips", error);
    return;
  }
  if (leftovers.length > 0) {
    ports.log.warn("announcing round trips left unannounced", { probes: leftovers.length });
  }
  for (const probe of leftovers) {
    summary.reannounced += 1;
    await addEvents(run, probe.targetId, () => run.batch.addRoundTrip(probe));
  }
}
