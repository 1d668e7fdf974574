import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { powertoolsLogger } from "../../adapters/aws/powertools-logger.ts";
import type { DeployConfig, WebhookEndpointConfig } from "../../core/config/schema.ts";
import { type RetryPolicy, retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { Logger } from "../../ports/logger.ts";
import { DeadLetterQueue } from "./dead-letters.ts";
import { ENV, requiredEnv } from "./env.ts";
import { AWS_CLIENT_DEFAULTS, secretCache } from "./lambda-basics.ts";
import { configPath, loadDeployConfig } from "./load-config.ts";
import { WebhookSecrets } from "./webhook-secrets.ts";

/**
 * SQS keeps a message 14 days from when it was sent; retries must end, and the event be moved to
 * the dead-letter queue, before SQS deletes it. Two hours of margin cover the longest
 * Retry-After honoured (one hour) and the invocation itself.
 */
export const MAX_QUEUED_AGE_SECONDS = 14 * 86_400 - 2 * 3_600;

/** What the notifier needs, built once per container. Unlike the prober's, no tables or probe key. */
export interface NotifierRuntime {
  readonly config: DeployConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly sqs: SQSClient;
  /** The events queue: ChangeMessageVisibility of a retried message goes there. */
  readonly queueUrl: string;
  readonly deadLetters: DeadLetterQueue;
  readonly secrets: WebhookSecrets;
  readonly policy: RetryPolicy;
  /** Backoff jitter source, in [0, 1). */
  readonly random: () => number;
  endpoint(id: string): WebhookEndpointConfig | undefined;
  useLambdaContext(context: Context | undefined): void;
}

/** Stand-ins for tests; in Lambda every client comes from the environment. */
export interface NotifierOptions {
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly random?: () => number;
}

/** Reads the environment and the config; throws naming the variable or key at fault. */
export function createNotifierRuntime(options: NotifierOptions = {}): NotifierRuntime {
  const env = options.env ?? process.env;
  const config = loadDeployConfig(configPath(env));
  const secretArn = requiredEnv(ENV.webhookSecretArn, env);
  const queueUrl = requiredEnv(ENV.eventsQueueUrl, env);
  const deadLetterUrl = requiredEnv(ENV.eventsDlqUrl, env);
  const clock = options.clock ?? systemClock;
  const powertools = options.log === undefined ? powertoolsLogger() : undefined;
  const log = options.log ?? (powertools as Logger);
  const sqs = options.sqs ?? new SQSClient(AWS_CLIENT_DEFAULTS);
  const maxAgeSeconds = Math.min(config.webhooks.maxAgeSeconds, MAX_QUEUED_AGE_SECONDS);
  if (maxAgeSeconds < config.webhooks.maxAgeSeconds) {
    log.warn("webhooks.maxAgeSeconds is longer than SQS keeps a message; retries stop earlier", {
      configured: config.webhooks.maxAgeSeconds,
      used: maxAgeSeconds,
    });
  }
  const endpoints = new Map(config.webhooks.endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return {
    config,
    log,
    clock,
    sqs,
    queueUrl,
    deadLetters: new DeadLetterQueue(sqs, deadLetterUrl),
    secrets: new WebhookSecrets(secretCache(options.secretsManager, clock, log), secretArn),
    policy: retryPolicyFor(maxAgeSeconds),
    random: options.random ?? Math.random,
    endpoint: (id) => endpoints.get(id),
    useLambdaContext: (context) => {
      if (context !== undefined) powertools?.powertools.addContext(context);
    },
  };
}
