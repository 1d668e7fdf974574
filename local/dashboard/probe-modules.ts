import type { Secret } from "../../core/basics/secret.ts";
import type { StartTlsPolicy } from "../../core/checks/endpoint.ts";
import type { CheckOptions } from "../../core/checks/run-check.ts";
import type { PrometheusProbeConfig } from "../../core/config/prometheus-probe-schema.ts";
import { thresholdsFrom } from "../../core/cycle/check-plan.ts";

/** One /probe module, ready to run: its check options with the password already read. */
export interface ProbeModule {
  readonly name: string;
  /** The check's overall deadline unless the scrape's own timeout is shorter. */
  readonly timeoutMs: number;
  readonly startTls?: StartTlsPolicy;
  /** Lower-case host names and addresses this module may check; any host when absent. */
  readonly allowedHosts?: ReadonlySet<string>;
  readonly options: CheckOptions;
}

export interface ProbeSettings {
  readonly maxConcurrentChecks: number;
  readonly modules: ReadonlyMap<string, ProbeModule>;
}

/**
 * Builds the /probe modules from dashboard.prometheusProbe. Passwords are read here, once, at
 * start-up: a missing password file stops the dashboard then, not every scrape later.
 */
export function probeSettingsFrom(
  config: PrometheusProbeConfig,
  { heloName, readPassword }: { heloName?: string | undefined; readPassword: (path: string) => Secret },
): ProbeSettings {
  const modules = new Map<string, ProbeModule>();
  for (const [name, module] of Object.entries(config.modules)) {
    const options: CheckOptions = {
      thresholds: thresholdsFrom(module.thresholds ?? {}),
      ...(module.caFile ? { caFile: module.caFile } : {}),
      ...(module.login
        ? {
            credentials: {
              user: module.login.user,
              password: modulePassword(name, module.login, readPassword),
            },
          }
        : {}),
      ...(heloName ? { clientName: heloName } : {}),
    };
    modules.set(name, {
      name,
      timeoutMs: Math.round(module.timeoutSeconds * 1000),
      ...(module.starttls ? { startTls: module.starttls } : {}),
      ...(module.allowedHosts
        ? { allowedHosts: new Set(module.allowedHosts.map((host) => bare(host).toLowerCase())) }
        : {}),
      options,
    });
  }
  return { maxConcurrentChecks: config.maxConcurrentChecks, modules };
}

function modulePassword(
  name: string,
  login: { readonly passwordFile: string },
  readPassword: (path: string) => Secret,
): Secret {
  try {
    return readPassword(login.passwordFile);
  } catch (cause) {
    throw new Error(
      `dashboard.prometheusProbe.modules.${name}.login.passwordFile: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** An IPv6 literal may be written with or without brackets; the endpoint's host has none. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}
