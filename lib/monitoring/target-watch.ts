import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import type { Protocol } from "../../core/checks/endpoint-kinds.ts";
import { DEFAULT_THRESHOLDS } from "../../core/checks/evaluate.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import { targetProtocols } from "../config/prober-ports.ts";

/** What the dashboard and the alarms watch for one target, taken from the configuration. */
export interface TargetWatch {
  readonly id: string;
  readonly protocols: Protocol[];
  /** Present for targets with round-trip probes: the RTT (seconds) that is critical. */
  readonly roundTripCriticalSeconds?: number;
  /** Alarm when a certificate of this protocol has fewer days left (the highest warning among its endpoints). */
  readonly certWarningDays: Partial<Record<Protocol, number>>;
  /** Consecutive failed checks before a status changes (the target's flap control). */
  readonly confirmAfter: number;
}

export function targetWatches(config: DeployConfig): TargetWatch[] {
  return config.targets.map((target) => {
    const certWarningDays: Partial<Record<Protocol, number>> = {};
    const protocols = targetProtocols(target);
    for (const protocol of protocols) {
      // The largest warning among the protocol's endpoints: the alarm fires as soon as any of them warns.
      const days = target.endpoints
        .filter((endpoint) => parseEndpointUrl(endpoint.url).protocol === protocol)
        .map(
          (endpoint) =>
            endpoint.thresholds?.certWarningDays ??
            target.thresholds?.certWarningDays ??
            DEFAULT_THRESHOLDS.certWarningDays,
        );
      certWarningDays[protocol] = Math.max(...days);
    }
    return {
      id: target.id,
      protocols,
      ...(target.probe
        ? { roundTripCriticalSeconds: target.probe.criticalSeconds ?? config.roundTrip.criticalSeconds }
        : {}),
      certWarningDays,
      confirmAfter: target.confirmAfter,
    };
  });
}
