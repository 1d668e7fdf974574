import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, parseConfigText } from "../../core/config/parse-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";

/**
 * Reads and validates a config file; relative paths in it are taken relative to the file's
 * folder, so a config works from whatever directory the monitor is started in.
 */
export function loadConfigFile(path: string): ScoutConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? error})`,
    ]);
  }
  const config = parseConfigText(text, path);
  const base = dirname(resolve(path));
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
    })),
  };
}
