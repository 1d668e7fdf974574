import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { CheckStore } from "../../core/ports/check-store.ts";
import type { EventSink } from "../../core/ports/event-sink.ts";
import type { ProbeStore } from "../../core/ports/probe-store.ts";
import type { StatusStore } from "../../core/ports/status-store.ts";
import type { TargetKeyRings } from "../../core/roundtrip/target-key-rings.ts";
import { DynamoCheckStore } from "../aws/dynamo-check-store.ts";
import { documentClient } from "../aws/dynamo-client.ts";
import { DynamoProbeStore } from "../aws/dynamo-probe-store.ts";
import { DynamoStatusStore } from "../aws/dynamo-status-store.ts";
import type { SecretCache } from "../aws/secret-cache.ts";
import { SqsEventSink } from "../aws/sqs-event-sink.ts";
import { ENV, optionalEnv, requiredEnv } from "./env.ts";
import {
  AWS_CLIENT_DEFAULTS,
  type BaseRuntime,
  type BaseRuntimeOptions,
  createBaseRuntime,
  secretCache,
} from "./lambda-basics.ts";
import { probeKeySecrets } from "./probe-key-secrets.ts";

/** Days results and probes are kept when the config's aws block does not say. */
export const DEFAULT_RETENTION_DAYS = 30;

/** What the prober and the correlator share, built once per container (cold start) and reused. */
export interface Runtime extends BaseRuntime {
  /** The config's aws.retentionDays, or DEFAULT_RETENTION_DAYS. */
  readonly retentionDays: number;
  readonly probes: ProbeStore;
  readonly checks: CheckStore;
  readonly statuses: StatusStore;
  readonly secrets: SecretCache;
  /** Undefined when EVENTS_QUEUE_URL is unset: events are then only logged. */
  readonly events: EventSink | undefined;
  /**
   * Each probe target's key ring: its own secret (targets[].probe.keyFile), else the one in
   * PROBE_KEY_SECRET_ARN (cached; refreshed after the cache's TTL).
   */
  probeKeys(): Promise<TargetKeyRings>;
}

/** Stand-ins for tests; in Lambda every client comes from the environment (region, credentials). */
export interface RuntimeOptions extends BaseRuntimeOptions {
  readonly dynamodb?: DynamoDBClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
}

/**
 * Reads the environment and the config and wires the AWS adapters to the core's ports. Throws
 * with a message naming the variable or config key at fault, which fails the cold start where
 * it is seen.
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const base = createBaseRuntime(options);
  const { env, config, clock, log } = base;
  const probesTable = requiredEnv(ENV.probesTable, env);
  const resultsTable = requiredEnv(ENV.resultsTable, env);
  const keySecretId = requiredEnv(ENV.probeKeySecretArn, env);
  const queueUrl = optionalEnv(ENV.eventsQueueUrl, env);
  const retentionDays = config.aws?.retentionDays ?? DEFAULT_RETENTION_DAYS;

  const doc = documentClient(options.dynamodb ?? new DynamoDBClient(AWS_CLIENT_DEFAULTS));
  const secrets = secretCache(options.secretsManager, clock, log);
  const probeKeys = probeKeySecrets(config, keySecretId, secrets, log);
  return {
    ...base,
    retentionDays,
    probes: new DynamoProbeStore({ doc, probesTable, resultsTable, retentionDays, clock }),
    checks: new DynamoCheckStore({ doc, table: resultsTable, retentionDays }),
    statuses: new DynamoStatusStore({ doc, table: resultsTable, retentionDays }),
    secrets,
    events:
      queueUrl === undefined
        ? undefined
        : new SqsEventSink(
            options.sqs ?? new SQSClient(AWS_CLIENT_DEFAULTS),
            queueUrl,
            config.webhooks.endpoints,
            log,
          ),
    probeKeys,
  };
}
