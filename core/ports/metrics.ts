import type { CheckResult } from "../checks/result.ts";
import type { ReceiverVerdicts } from "../verdicts/receiver-verdicts.ts";
import type { RejectReason } from "./probe-store.ts";

/** A probe outcome the return intake measured (the probe after its transition). */
export interface CorrelatedProbe {
  readonly targetId: string;
  readonly rttMs?: number;
  /** What the receiver said of the delivered probe (returned, late). */
  readonly verdicts?: ReceiverVerdicts;
}

/**
 * What the job reports as it goes, for dashboards and alarms: EMF metrics on AWS (CloudWatch),
 * prom-client counters in local mode. Calls are cheap and never throw; an adapter that buffers
 * (EMF) is flushed by its shell.
 */
export interface MetricsObserver {
  checkCompleted(targetId: string, result: CheckResult): void;
  /** Once per probe target per cycle, so an alarm on send failures sees 0s, not silence. */
  probeSent(targetId: string, sendFailed: boolean): void;
  /** Once per probe target per sweep, 0 included, for the same reason. */
  probesLost(targetId: string, count: number): void;
  /** A return or bounce moved a probe: returned (with its RTT), late, or bounced. */
  probeCorrelated(kind: "returned" | "late" | "bounced", probe: CorrelatedProbe): void;
  returnRejected(reason: RejectReason): void;
}

/** An observer that records nothing (a one-off command, a test that does not look at metrics). */
export const NO_METRICS: MetricsObserver = {
  checkCompleted: () => {},
  probeSent: () => {},
  probesLost: () => {},
  probeCorrelated: () => {},
  returnRejected: () => {},
};
