import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { describeError } from "../basics/describe-error.ts";
import { ConfigError } from "./config-error.ts";
import { parseAwsConfigText, parseConfigText } from "./parse-config.ts";
import type { PrometheusProbeConfig } from "./prometheus-probe-schema.ts";
import type { DeployConfig, ScoutConfig } from "./schema.ts";

/**
 * Which rules a configuration file is read with:
 * - "local": `email-scout serve` and the CLI; the whole format (configSchema), and relative
 *   paths in it taken from the file's folder, so a config works from whatever directory the
 *   monitor is started in.
 * - "aws": the CDK app and the Lambdas; local-only keys may be absent, and the AWS rules
 *   apply (awsDeployConfigSchema).
 */
export type ConfigShape = "local" | "aws";

export interface LoadConfigOptions {
  /** Added when the file cannot be read: how this shell is pointed at the file (-c, an env var). */
  readonly hint?: string;
}

/**
 * The one loader of the configuration, for every shell: reads the file (YAML or JSON) and
 * validates it; every problem is a ConfigError naming the file and the key.
 */
export function loadConfigFile(path: string, shape: "local", options?: LoadConfigOptions): ScoutConfig;
export function loadConfigFile(path: string, shape: "aws", options?: LoadConfigOptions): DeployConfig;
export function loadConfigFile(
  path: string,
  shape: ConfigShape,
  options: LoadConfigOptions = {},
): ScoutConfig | DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? describeError(cause);
    const hint = options.hint === undefined ? "" : `: ${options.hint}`;
    throw new ConfigError(path, [`cannot read the Email Scout config ${resolve(path)} (${code})${hint}`], {
      cause,
    });
  }
  if (shape === "aws") return parseAwsConfigText(text, path);
  return withPathsFrom(dirname(resolve(path)), parseConfigText(text, path));
}

/** The config with every relative file path in it taken from base. */
function withPathsFrom(base: string, config: ScoutConfig): ScoutConfig {
  const at = (file: string) => (isAbsolute(file) ? file : resolve(base, file));
  return {
    ...config,
    dataDir: at(config.dataDir),
    probeKeyFile: at(config.probeKeyFile),
    inbound: {
      ...config.inbound,
      ...(config.inbound.tls
        ? { tls: { certFile: at(config.inbound.tls.certFile), keyFile: at(config.inbound.tls.keyFile) } }
        : {}),
    },
    outbound: {
      ...config.outbound,
      ...(config.outbound.relay
        ? {
            relay: {
              ...config.outbound.relay,
              ...(config.outbound.relay.caFile ? { caFile: at(config.outbound.relay.caFile) } : {}),
              ...(config.outbound.relay.passwordFile
                ? { passwordFile: at(config.outbound.relay.passwordFile) }
                : {}),
            },
          }
        : {}),
    },
    dashboard: {
      ...config.dashboard,
      ...(config.dashboard.tokenFile ? { tokenFile: at(config.dashboard.tokenFile) } : {}),
      ...(config.dashboard.tls
        ? { tls: { certFile: at(config.dashboard.tls.certFile), keyFile: at(config.dashboard.tls.keyFile) } }
        : {}),
      ...(config.dashboard.prometheusProbe
        ? { prometheusProbe: probeModulesWithPathsFrom(at, config.dashboard.prometheusProbe) }
        : {}),
    },
    webhooks: {
      ...config.webhooks,
      endpoints: config.webhooks.endpoints.map((endpoint) => ({
        ...endpoint,
        ...(endpoint.secretFile ? { secretFile: at(endpoint.secretFile) } : {}),
      })),
    },
    targets: config.targets.map((target) => ({
      ...target,
      endpoints: target.endpoints.map((endpoint) => ({
        ...endpoint,
        ...(endpoint.caFile ? { caFile: at(endpoint.caFile) } : {}),
        ...(endpoint.login
          ? { login: { ...endpoint.login, passwordFile: at(endpoint.login.passwordFile) } }
          : {}),
      })),
      ...(target.probe?.keyFile ? { probe: { ...target.probe, keyFile: at(target.probe.keyFile) } } : {}),
    })),
  };
}

function probeModulesWithPathsFrom(
  at: (file: string) => string,
  probe: PrometheusProbeConfig,
): PrometheusProbeConfig {
  const modules = Object.entries(probe.modules).map(([name, module]) => [
    name,
    {
      ...module,
      ...(module.caFile ? { caFile: at(module.caFile) } : {}),
      ...(module.login ? { login: { ...module.login, passwordFile: at(module.login.passwordFile) } } : {}),
    },
  ]);
  return { ...probe, modules: Object.fromEntries(modules) };
}
