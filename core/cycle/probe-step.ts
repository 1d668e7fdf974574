import { mapBounded } from "../basics/map-bounded.ts";
import type { TargetKeyRings } from "../roundtrip/target-key-rings.ts";
import { DEFAULT_STORE_CONCURRENCY } from "./cycle-ports.ts";
import { type CycleRun, recordCycleError } from "./cycle-run.ts";
import { roundTripByFetch } from "./fetch-step.ts";
import { ringOf, sendTargetProbe } from "./send-target-probe.ts";

/**
 * Fetch-mode round trips in flight at once. Each holds a mailbox connection for up to its
 * waitSeconds, mostly idle; they run beside the `.forward` sends, never in their queue.
 */
export const FETCH_CONCURRENCY = 64;

/**
 * One round-trip probe per probe target of the run's shard; a send the relay refuses is a result
 * (send-failed). Fetch-mode targets (probe.fetch) also wait a while for theirs in the mailbox.
 */
export async function sendProbes(run: CycleRun): Promise<void> {
  const { ports } = run;
  const probeTargets = run.targets.filter((target) => target.probe !== undefined);
  if (probeTargets.length === 0) return;
  let rings: TargetKeyRings;
  try {
    rings = await ports.probeKeys();
  } catch (error) {
    recordCycleError(run, { step: "key" }, "cannot read the probe keys; no probes this cycle", error);
    return;
  }
  const targets = probeTargets.filter((target) => target.probe?.fetch === undefined);
  const fetchTargets = probeTargets.filter((target) => target.probe?.fetch !== undefined);
  await Promise.all([
    mapBounded(fetchTargets, FETCH_CONCURRENCY, (target) => roundTripByFetch(run, target, rings)),
    sendForwardProbes(run, targets, rings),
  ]);
}

/** `.forward` mode: the probe is sent; its return comes in through the return intake. */
async function sendForwardProbes(
  run: CycleRun,
  targets: CycleRun["targets"],
  rings: TargetKeyRings,
): Promise<void> {
  const { ports } = run;
  // Bounded: each probe is a store write and a send, and a thousand targets would queue them
  // on the sockets past their connection timeout.
  await mapBounded(targets, ports.storeConcurrency ?? DEFAULT_STORE_CONCURRENCY, async (target) => {
    const ring = ringOf(run, target, rings);
    if (ring === undefined) return;
    try {
      await sendTargetProbe(run, target, ring);
    } catch (error) {
      // The store refused the probe: nothing was sent.
      recordCycleError(run, { step: "probe", target: target.id }, "cannot send or record a probe", error);
    }
  });
}
