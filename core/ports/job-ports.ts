import type { DeployConfig } from "../config/schema.ts";
import type { ScoutEvent } from "../events/event.ts";
import type { TargetKeyRings } from "../roundtrip/target-key-rings.ts";
import type { Clock } from "./clock.ts";
import type { EventSink } from "./event-sink.ts";
import type { Logger } from "./logger.ts";
import type { MetricsObserver } from "./metrics.ts";
import type { ProbeStore } from "./probe-store.ts";
import type { StatusStore } from "./status-store.ts";

/** The parts of the configuration the job reads: the same in both shells. */
export type JobConfig = Pick<
  DeployConfig,
  "targets" | "schedule" | "roundTrip" | "inbound" | "outbound" | "webhooks" | "posture"
>;

/**
 * What a shell provides to the job (the cycle and the return intake): SQLite, the outbox and
 * prom-client in local mode; DynamoDB, SQS and EMF on AWS.
 */
export interface JobPorts {
  readonly config: JobConfig;
  /**
   * Each probe target's key ring (its own key file or secret, else the global one); read, and
   * re-read after a rotation, by the shell. Throws when a ring cannot be read.
   */
  readonly probeKeys: () => Promise<TargetKeyRings>;
  readonly probes: ProbeStore;
  readonly statuses: StatusStore;
  /** Where events go; without one they are only logged. */
  readonly events: EventSink | undefined;
  readonly metrics: MetricsObserver;
  readonly clock: Clock;
  readonly log: Logger;
  /** Sees every event once the sink holds it (local mode re-emits them to its listeners). */
  readonly onEvent?: (event: ScoutEvent) => void;
}
