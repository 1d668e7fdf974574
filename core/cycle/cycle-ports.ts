import type { CheckResult } from "../checks/result.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";
import type { CheckStore } from "../ports/check-store.ts";
import type { JobConfig, JobPorts } from "../ports/job-ports.ts";
import type { MailSender } from "../ports/mail-sender.ts";
import type { MailboxOpener } from "../ports/mailbox.ts";
import type { PlannedCheck } from "./check-plan.ts";
import type { Shard } from "./shards.ts";

/** What one cycle needs beyond the job's ports. */
export interface CyclePorts extends JobPorts {
  /**
   * The checks of these targets (the run's shard); passwords are read here (files locally,
   * Secrets Manager on AWS).
   */
  readonly planChecks: (targets: JobConfig["targets"]) => Promise<PlannedCheck[]>;
  /**
   * The part of the targets this run watches (targetsOfShard); every target when absent. Each
   * shard checks and probes its own targets and sweeps and announces only their probes.
   */
  readonly shard?: Shard;
  readonly checks: CheckStore;
  readonly sender: MailSender;
  /** Opens the probe mailboxes of fetch-mode targets (probe.fetch); without it they cannot be read. */
  readonly mailboxes?: MailboxOpener;
  /** The probes' From address. */
  readonly probeFrom: string;
  /** Told of each check result as it completes (progress of a long cycle). */
  readonly onCheckResult?: (result: CheckResult) => void;
  /**
   * Store writes and event builds in flight at once: enough to hide the calls' latency, few
   * enough that none waits for one of the SDK's sockets long enough for its connection timeout
   * to fire (which lost results when all of a cycle's writes were sent at once).
   */
  readonly storeConcurrency?: number;
  /** The resolver the posture checks ask; by default the one `posture` configures (postureResolverFor). */
  readonly postureResolver?: DnsResolver;
}

export const DEFAULT_STORE_CONCURRENCY = 32;

/** A step's failure, kept in the summary (and logged); the cycle goes on. */
export interface CycleError {
  readonly step:
    | "plan"
    | "store-check"
    | "probe"
    | "fetch"
    | "sweep"
    | "key"
    | "statuses"
    | "events"
    | "announce"
    | "posture";
  readonly target?: string;
  readonly error: string;
}

/** What one cycle did; also logged. A failure of one target is in `errors`, never thrown. */
export interface CycleSummary {
  checks: number;
  /** Checks whose status is not OK. */
  notOk: number;
  /** Posture check results of targets whose posture was due this cycle (one per check). */
  postureChecks: number;
  probesSent: number;
  sendFailed: number;
  /** Fetch mode: probes found in their mailbox this run (delivered, or late after lost). */
  delivered: number;
  /** Probes this cycle swept from sent to lost. */
  lost: number;
  /** Outcomes of earlier runs announced again (their events had not been queued). */
  reannounced: number;
  /** Events queued (or, without a sink, logged). */
  events: number;
  errors: CycleError[];
}
