import type { ProbeRecord } from "../ports/probe-store.ts";
import { sendProbe } from "../roundtrip/send-probe.ts";
import type { TargetKeyRings } from "../roundtrip/target-key-rings.ts";
import { type ProbeKeyRing, signingKey } from "../wire/probe-key.ts";
import { addEvents, type CycleRun, recordCycleError } from "./cycle-run.ts";

type Target = CycleRun["targets"][number];

/**
 * The target's key ring; undefined (a cycle error, no probe for it) when the shell gave none.
 */
export function ringOf(run: CycleRun, target: Target, rings: TargetKeyRings): ProbeKeyRing | undefined {
  const ring = rings.get(target.id);
  if (ring === undefined) {
    const error = new Error(`the shell gave no probe key ring for target ${target.id}`);
    recordCycleError(
      run,
      { step: "key", target: target.id },
      "no probe key for this target; no probe",
      error,
    );
  }
  return ring;
}

/**
 * Sends one target's probe, signed with the first key of its ring, and counts it: sent, or
 * send-failed (a result, with its event). Both round-trip modes start here. Throws when the
 * store refuses the probe (nothing was sent).
 */
export async function sendTargetProbe(
  run: CycleRun,
  target: Target,
  ring: ProbeKeyRing,
): Promise<ProbeRecord> {
  const { ports, summary } = run;
  const probe = await sendProbe(
    {
      targetId: target.id,
      to: target.probe?.to as string,
      from: ports.probeFrom,
      inboundDomain: ports.config.inbound.domain,
      deadlineMs: ports.config.roundTrip.deadlineSeconds * 1000,
    },
    { store: ports.probes, sender: ports.sender, key: signingKey(ring), clock: ports.clock, log: ports.log },
  );
  const failed = probe.state === "send-failed";
  ports.metrics.probeSent(target.id, failed);
  if (failed) {
    summary.sendFailed += 1;
    await addEvents(run, target.id, () => run.batch.addRoundTrip(probe));
  } else summary.probesSent += 1;
  return probe;
}
