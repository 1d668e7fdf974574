import { SESClient } from "@aws-sdk/client-ses";
import { Secret } from "../../core/basics/secret.ts";
import { probeFromAddress } from "../../core/config/config-rules.ts";
import { planChecks } from "../../core/cycle/check-plan.ts";
import type { CyclePorts } from "../../core/cycle/cycle-ports.ts";
import type { Shard } from "../../core/cycle/shards.ts";
import { ROUND_TRIP_SUBJECT } from "../../core/events/status-changed.ts";
import { createMailboxOpener } from "../../core/mailbox/mailbox-opener.ts";
import type { MailSender } from "../../core/ports/mail-sender.ts";
import type { MailboxOpener } from "../../core/ports/mailbox.ts";
import type { MetricsObserver } from "../../core/ports/metrics.ts";
import { DynamoStatusSnapshot } from "../aws/dynamo-status-snapshot.ts";
import { SesMailSender } from "../aws/ses-mail-sender.ts";
import { ENV, optionalEnv } from "./env.ts";
import { AWS_CLIENT_DEFAULTS } from "./lambda-basics.ts";
import { readLoginPasswords } from "./login-passwords.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime.ts";

/** The prober's runtime: the shared one plus SES, built once per container. */
export interface ProberRuntime extends Runtime {
  /**
   * A sender for one run: it reads the SES quota and paces that run's sends to `rateShare` of the
   * account's MaxSendRate (1 / shards: the shards of a run send at the same time).
   */
  sender(rateShare?: number): MailSender;
  /** The probes' From header. */
  readonly from: string;
  /**
   * Fetch-mode mailboxes: passwords and OAuth client secrets from Secrets Manager (their ARNs in
   * the config); kept for the container's life, so an access token serves run after run.
   */
  readonly mailboxes: MailboxOpener;
}

export interface ProberOptions extends RuntimeOptions {
  readonly ses?: SESClient;
}

export function createProberRuntime(options: ProberOptions): ProberRuntime {
  const shared = createRuntime(options);
  const { config, env, log } = shared;
  const ses = options.ses ?? new SESClient(AWS_CLIENT_DEFAULTS);
  const configurationSetName = optionalEnv(ENV.sesConfigurationSet, env);
  return {
    ...shared,
    sender: (rateShare = 1) =>
      new SesMailSender(ses, {
        log,
        rateShare,
        ...(configurationSetName === undefined ? {} : { configurationSetName }),
      }),
    from: optionalEnv(ENV.sesFrom, shared.env) ?? probeFromAddress(config),
    mailboxes: createMailboxOpener({
      // A trailing line end is an artefact of how the secret was pasted, never part of it.
      readSecret: async (arn) => new Secret((await shared.secrets.get(arn)).replace(/\r?\n$/, "")),
      clock: shared.clock,
      log,
    }),
  };
}

/**
 * The core's cycle ports for one run. Statuses come from a snapshot read in one Query while the
 * checks run (changed statuses only are written back); "roundtrip", which the correlator writes
 * too, is read and written item by item.
 */
export function proberCyclePorts(
  rt: ProberRuntime,
  metrics: MetricsObserver,
  shard?: Shard,
): { ports: CyclePorts; statuses: DynamoStatusSnapshot } {
  const statuses = new DynamoStatusSnapshot({
    store: rt.statuses,
    retentionDays: rt.retentionDays,
    sharedSubject: (subject) => subject === ROUND_TRIP_SUBJECT,
  });
  statuses.preload();
  const ports: CyclePorts = {
    config: rt.config,
    probeKeys: () => rt.probeKeys(),
    probes: rt.probes,
    statuses,
    events: rt.events,
    metrics,
    clock: rt.clock,
    log: rt.log,
    // Passwords come from Secrets Manager (login.passwordFile holds an ARN on AWS): the shard's only.
    planChecks: async (targets) =>
      planChecks({ ...rt.config, targets }, await readLoginPasswords(rt.config, rt.secrets, targets)),
    ...(shard ? { shard } : {}),
    checks: rt.checks,
    sender: rt.sender(shard ? 1 / shard.count : 1),
    mailboxes: rt.mailboxes,
    probeFrom: rt.from,
  };
  return { ports, statuses };
}
