import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import type { Protocol } from "../../core/checks/endpoint-kinds.ts";
import { DEFAULT_THRESHOLDS } from "../../core/checks/evaluate.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import { targetProtocols } from "../config/prober-ports.ts";

/** What the dashboard and the alarms watch for one target, taken from the configuration. */
export interface TargetWatch {
  readonly id: string;
  readonly protocols: Protocol[];
  /** How many endpoints it has: checks (CheckFailed datapoints) a run reports for it. */
  readonly endpoints: number;
  /** Present for targets with round-trip probes: the RTT (seconds) that is critical. */
  readonly roundTripCriticalSeconds?: number;
  /** Alarm when a certificate of this protocol has fewer days left (the highest warning among its endpoints). */
  readonly certWarningDays: Partial<Record<Protocol, number>>;
  /** Consecutive failed checks before a status changes (the target's flap control). */
  readonly confirmAfter: number;
  /** The target's mail domain, when its DNS posture is checked (targets[].domain). */
  readonly postureDomain?: string;
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
      endpoints: target.endpoints.length,
      ...(target.probe
        ? { roundTripCriticalSeconds: target.probe.criticalSeconds ?? config.roundTrip.criticalSeconds }
        : {}),
      certWarningDays,
      confirmAfter: target.confirmAfter,
      ...(target.domain === undefined ? {} : { postureDomain: target.domain }),
    };
  });
}

/** Whether each target gets its own alarms and dashboard row (aws.perTargetAlarmsUpTo), or the fleet is watched as a whole. */
export function watchesOneByOne(targets: readonly TargetWatch[], perTargetAlarmsUpTo: number): boolean {
  return targets.length <= perTargetAlarmsUpTo;
}

/**
 * What fleet-level alarms watch: a Metrics Insights query has one threshold for every target, so
 * the targets' own thresholds are folded into one, each in the direction that never alarms later
 * than the target's own would, except the round-trip time, where it never pages a target that is
 * within its own threshold.
 */
export interface FleetWatch {
  readonly targets: number;
  /** Target and protocol pairs: the CheckFailed (and CertificateDaysLeft) series a query reads. */
  readonly checkSeries: number;
  /** Endpoints of every target: CheckFailed datapoints one complete run reports. */
  readonly endpoints: number;
  readonly probeTargets: number;
  /** The smallest confirmAfter of any target. */
  readonly confirmAfter: number;
  /** The largest certificate warning of any target and protocol. */
  readonly certWarningDays?: number;
  /** The largest critical round-trip time, with how many probe targets have a smaller one. */
  readonly roundTripCriticalSeconds?: number;
  readonly probeTargetsWithLowerCritical: number;
  /** Targets whose domain's posture is checked. */
  readonly postureTargets: number;
}

export function fleetWatch(targets: readonly TargetWatch[]): FleetWatch {
  const probeCriticals = targets.flatMap((target) =>
    target.roundTripCriticalSeconds === undefined ? [] : [target.roundTripCriticalSeconds],
  );
  const warnings = targets.flatMap((target) => Object.values(target.certWarningDays));
  const roundTripCriticalSeconds = probeCriticals.length > 0 ? Math.max(...probeCriticals) : undefined;
  return {
    targets: targets.length,
    checkSeries: targets.reduce((sum, target) => sum + target.protocols.length, 0),
    endpoints: targets.reduce((sum, target) => sum + target.endpoints, 0),
    probeTargets: probeCriticals.length,
    confirmAfter: Math.min(...targets.map((target) => target.confirmAfter)),
    ...(warnings.length > 0 ? { certWarningDays: Math.max(...warnings) } : {}),
    ...(roundTripCriticalSeconds === undefined ? {} : { roundTripCriticalSeconds }),
    postureTargets: targets.filter((target) => target.postureDomain !== undefined).length,
    probeTargetsWithLowerCritical: probeCriticals.filter((seconds) => seconds !== roundTripCriticalSeconds)
      .length,
  };
}
