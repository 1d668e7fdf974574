import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describeError } from "../../core/basics/describe-error.ts";
import { ConfigError } from "../../core/config/config-error.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import { array, checkShape, integer, number, object, string } from "../events/event-shape.ts";

/*
 * The configuration as the Lambdas get it: the CDK app validates the YAML at synth with the full
 * schema (lib/config/deploy-config.ts) and writes the result, defaults filled in, as JSON into
 * each bundle. The Lambdas only check that the file is that output, of this build's format, and
 * unchanged since: no YAML parser and no schema library at run time (together about 560 KB of
 * each bundle and most of its cold init, bench/lambdas/results.md).
 */

/**
 * The format of the file. Raise it when DeployConfig changes in a way an older reader would get
 * wrong; the CDK app writes the file and bundles the reader in one synth, so the two meet only
 * when a file from another build is pointed at (SCOUT_CONFIG_FILE), and that is refused.
 */
export const DEPLOY_CONFIG_VERSION = 1;

/** What the CDK app writes: the validated config, its format version and the SHA-256 of its JSON. */
export interface DeployConfigFile {
  readonly configVersion: typeof DEPLOY_CONFIG_VERSION;
  readonly sha256: string;
  readonly config: DeployConfig;
}

const REDEPLOY = "change the YAML config and deploy again (cdk deploy writes this file)";

/** The file's text for a config the full schema has accepted (the CDK app's side). */
export function deployConfigFileText(config: DeployConfig): string {
  const file: DeployConfigFile = { configVersion: DEPLOY_CONFIG_VERSION, sha256: digest(config), config };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * The parts of DeployConfig every handler reads, checked so that a file from another build fails
 * the cold start here, naming the key, rather than a run later.
 */
const configShape = object({
  config: object({
    schedule: object({ intervalSeconds: number(), checkConcurrency: integer({ min: 1 }) }),
    inbound: object({ domain: string({ minLength: 1 }), returnAddress: string({ minLength: 1 }) }),
    outbound: object({}),
    roundTrip: object({ deadlineSeconds: number(), warningSeconds: number(), criticalSeconds: number() }),
    targets: array(object({ id: string({ minLength: 1 }), endpoints: array(object({ url: string() })) })),
    posture: object({ intervalSeconds: number(), timeoutMs: number(), retries: integer({ min: 0 }) }),
    webhooks: object({
      endpoints: array(object({ id: string({ minLength: 1 }), url: string() })),
      maxAgeSeconds: number(),
      defaultCustomer: string(),
    }),
  }),
});

/**
 * Reads the file the CDK app wrote; throws a ConfigError naming the file and what is wrong (and
 * `hint`, how this shell is pointed at another file, when it cannot be read).
 */
export function readDeployConfigFile(path: string, hint?: string): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? describeError(cause);
    const how = hint === undefined ? "" : `: ${hint}`;
    throw new ConfigError(path, [`cannot read the Email Scout config ${resolve(path)} (${code})${how}`], {
      cause,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(path, [`not JSON (${describeError(cause)}): ${REDEPLOY}`], { cause });
  }
  const file = (typeof data === "object" && data !== null ? data : {}) as Partial<
    Record<keyof DeployConfigFile, unknown>
  >;
  if (file.configVersion !== DEPLOY_CONFIG_VERSION) {
    throw new ConfigError(path, [
      file.configVersion === undefined
        ? `configVersion: is missing: not the config the Email Scout CDK app writes at synth ({configVersion, sha256, config}); ${REDEPLOY}`
        : `configVersion: is ${JSON.stringify(file.configVersion)}, this build reads ${DEPLOY_CONFIG_VERSION}: the functions and their config come from one cdk deploy; deploy again`,
    ]);
  }
  if (file.sha256 !== digest(file.config)) {
    throw new ConfigError(path, [
      `sha256: does not match the config: it was changed after cdk synth wrote it; ${REDEPLOY}`,
    ]);
  }
  const { problems } = checkShape(configShape, file);
  if (problems.length > 0) throw new ConfigError(path, problems);
  return file.config as DeployConfig;
}

/** The SHA-256 of the config's JSON, as JSON.stringify writes it (hex). */
function digest(config: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(config) ?? "", "utf8")
    .digest("hex");
}
