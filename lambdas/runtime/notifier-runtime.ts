import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { WebhookEndpointConfig } from "../../core/config/schema.ts";
import type { WebhookPoster } from "../../core/ports/webhook-poster.ts";
import { HTTP_WEBHOOK_POSTER } from "../../core/webhook/attempt.ts";
import { type RetryPolicy, retryPolicyFor } from "../../core/webhook/retry-policy.ts";
import { documentClient } from "../aws/dynamo-client.ts";
import { DynamoWebhookHolds } from "../aws/dynamo-webhook-holds.ts";
import { DeadLetterQueue } from "./dead-letters.ts";
import { ENV, requiredEnv } from "./env.ts";
import {
  AWS_CLIENT_DEFAULTS,
  type BaseRuntime,
  type BaseRuntimeOptions,
  createBaseRuntime,
  secretCache,
} from "./lambda-basics.ts";
import { WebhookSecrets } from "./webhook-secrets.ts";

/**
 * SQS keeps a message 14 days from when it was sent; retries must end, and the event be moved to
 * the dead-letter queue, before SQS deletes it. Two hours of margin cover the longest
 * Retry-After honoured (one hour) and the invocation itself.
 */
export const MAX_QUEUED_AGE_SECONDS = 14 * 86_400 - 2 * 3_600;

/** What the notifier needs, built once per container: of the tables, only its own holds table. */
export interface NotifierRuntime extends BaseRuntime {
  readonly sqs: SQSClient;
  /** The events queue: ChangeMessageVisibility of a retried message goes there. */
  readonly queueUrl: string;
  readonly deadLetters: DeadLetterQueue;
  /** Failing endpoints and the events parked behind them, shared by all invocations. */
  readonly holds: DynamoWebhookHolds;
  readonly secrets: WebhookSecrets;
  readonly policy: RetryPolicy;
  /** Backoff jitter source, in [0, 1). */
  readonly random: () => number;
  /** How each delivery is attempted: signed HTTP POSTs. */
  readonly poster: WebhookPoster;
  endpoint(id: string): WebhookEndpointConfig | undefined;
}

/** Stand-ins for tests; in Lambda every client comes from the environment. */
export interface NotifierOptions extends BaseRuntimeOptions {
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  readonly random?: () => number;
  readonly poster?: WebhookPoster;
}

/** Reads the environment and the config; throws naming the variable or key at fault. */
export function createNotifierRuntime(options: NotifierOptions = {}): NotifierRuntime {
  const base = createBaseRuntime(options);
  const { env, config, clock, log } = base;
  const secretArn = requiredEnv(ENV.webhookSecretArn, env);
  const queueUrl = requiredEnv(ENV.eventsQueueUrl, env);
  const deadLetterUrl = requiredEnv(ENV.eventsDlqUrl, env);
  const holdsTable = requiredEnv(ENV.webhookHoldsTable, env);
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
    ...base,
    sqs,
    queueUrl,
    deadLetters: new DeadLetterQueue(sqs, deadLetterUrl),
    holds: new DynamoWebhookHolds(documentClient(options.dynamodb ?? AWS_CLIENT_DEFAULTS), holdsTable),
    secrets: new WebhookSecrets(secretCache(options.secretsManager, clock, log), secretArn),
    policy: retryPolicyFor(maxAgeSeconds),
    random: options.random ?? Math.random,
    poster: options.poster ?? HTTP_WEBHOOK_POSTER,
    endpoint: (id) => endpoints.get(id),
  };
}
