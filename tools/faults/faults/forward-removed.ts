import { rmSync } from "node:fs";
import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { deliveredProbes, emptyMailbox, probeMailbox } from "../probe-mailbox.ts";

/** No ~/.forward: probes are delivered into the mailbox and nobody returns them. */
export const forwardRemoved: Fault = {
  id: "forward-removed",
  title: "the return script removed from .forward",
  expected: "round trip CRITICAL lost; the probes sit delivered in the mailbox",
  async inject() {
    rmSync(probeMailbox().forward, { force: true });
  },
  async restore(harness) {
    harness.reinstallReturn();
    emptyMailbox();
  },
  detected(window) {
    const verdict = statusChanges(window, [{ subjects: ["roundtrip"], to: "CRITICAL", reasons: ["lost"] }]);
    const lost = window.roundTrips.filter((r) => r.outcome === "lost").map((r) => r.probeId);
    const delivered = deliveredProbes(lost);
    const other = window.roundTrips.filter((r) => r.outcome !== "lost");
    return {
      ...verdict,
      met: verdict.met && delivered.length === lost.length,
      observed: `${verdict.observed}; ${delivered.length}/${lost.length} lost probe(s) found delivered in the mailbox`,
      problems: [
        ...(verdict.problems ?? []),
        ...other.map((r) => `probe ${r.probeId} ${r.outcome}, expected lost`),
      ],
    };
  },
};
