import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context } from "aws-lambda";
import type { DeployConfig } from "../../core/config/schema.ts";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { powertoolsLogger } from "../aws/powertools-logger.ts";
import { SecretCache } from "../aws/secret-cache.ts";
import { CONFIG_FILE_HINT, configPath } from "./config-path.ts";
import { readDeployConfigFile } from "./deploy-config-file.ts";

/*
 * What every handler's wiring uses, apart from the prober's and correlator's runtime: the
 * notifier imports this alone (with its own holds table), so its cold start loads no probe store.
 */

/** Every AWS call has a deadline: one slow endpoint must not eat the whole Lambda timeout. */
export const AWS_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
} as const;

/** What every handler's runtime starts from, built once per container. */
export interface BaseRuntime {
  readonly env: NodeJS.ProcessEnv;
  readonly config: DeployConfig;
  readonly log: Logger;
  readonly clock: Clock;
  /** Stamps the invocation's request id and function name on the log lines that follow. */
  useLambdaContext(context: Context | undefined): void;
}

/** Stand-ins for tests; in Lambda they come from the environment. */
export interface BaseRuntimeOptions {
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads the config the CDK app wrote into the bundle; throws naming the path and what is wrong. */
export function createBaseRuntime(options: BaseRuntimeOptions = {}): BaseRuntime {
  const env = options.env ?? process.env;
  const config = readDeployConfigFile(configPath(env), CONFIG_FILE_HINT);
  const powertools = options.log === undefined ? powertoolsLogger() : undefined;
  return {
    env,
    config,
    log: options.log ?? (powertools as Logger),
    clock: options.clock ?? systemClock,
    useLambdaContext: (context) => {
      if (context !== undefined) powertools?.powertools.addContext(context);
    },
  };
}

/** The container's secret cache; a refresh that fails falls back to the value held, with a warning. */
export function secretCache(
  client: SecretsManagerClient | undefined,
  clock: Clock,
  log: Logger,
): SecretCache {
  return new SecretCache(
    client ?? new SecretsManagerClient(AWS_CLIENT_DEFAULTS),
    undefined,
    clock,
    (secretId, error) =>
      log.warn("cannot refresh a secret; using the value held", { secret: secretId, error: String(error) }),
  );
}

/**
 * Builds once and shares the result; a failed build is not kept, so the next invocation tries
 * again (and reports the same clear error if nothing changed).
 */
export function once<T>(build: () => T | Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= Promise.resolve()
      .then(build)
      .catch((error: unknown) => {
        built = undefined;
        throw error;
      });
    return built;
  };
}
