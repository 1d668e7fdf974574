import type { Secret } from "../basics/secret.ts";
import type { Credentials } from "../checks/dialect.ts";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import type { Thresholds } from "../checks/evaluate.ts";
import { relayTestFrom } from "../checks/open-relay.ts";
import type { CheckOptions } from "../checks/run-check.ts";
import { parseLoginMechanism } from "../checks/sasl/parse-mechanism.ts";
import type { ScoutConfig, ThresholdsConfig } from "../config/schema.ts";

export interface PlannedCheck {
  readonly targetId: string;
  readonly endpoint: ReturnType<typeof parseEndpointUrl>;
  readonly options: CheckOptions;
}

/**
 * Turns the configuration into the list of checks one cycle runs. Passwords are read here,
 * once, through `readPassword`, so a missing password file stops the monitor at start-up
 * instead of failing every check later.
 */
export function planChecks(
  config: Pick<ScoutConfig, "targets" | "outbound">,
  readPassword: (path: string) => Secret,
): PlannedCheck[] {
  return config.targets.flatMap((target) =>
    target.endpoints.map((endpointConfig) => {
      const endpoint = parseEndpointUrl(endpointConfig.url);
      const login = endpointConfig.login;
      const credentials: Credentials | undefined = login
        ? {
            user: login.user,
            password: readPassword(login.passwordFile),
            ...(login.mechanism
              ? { mechanism: parseLoginMechanism(login.mechanism, endpoint.protocol) }
              : {}),
          }
        : undefined;
      const options: CheckOptions = {
        thresholds: thresholdsFrom({ ...target.thresholds, ...endpointConfig.thresholds }),
        ...(endpointConfig.caFile ? { caFile: endpointConfig.caFile } : {}),
        ...(credentials ? { credentials } : {}),
        ...(config.outbound.heloName ? { clientName: config.outbound.heloName } : {}),
        ...(endpointConfig.openRelayTest
          ? {
              relayTest: relayTestFrom(
                endpointConfig.openRelayTest === true ? {} : endpointConfig.openRelayTest,
              ),
            }
          : {}),
      };
      return { targetId: target.id, endpoint, options };
    }),
  );
}

/** The config's thresholds (seconds) as a check takes them (milliseconds). */
export function thresholdsFrom(config: ThresholdsConfig): Partial<Thresholds> {
  return {
    ...(config.warningSeconds !== undefined ? { warningMs: config.warningSeconds * 1000 } : {}),
    ...(config.criticalSeconds !== undefined ? { criticalMs: config.criticalSeconds * 1000 } : {}),
    ...(config.certWarningDays !== undefined ? { certWarningDays: config.certWarningDays } : {}),
    ...(config.certCriticalDays !== undefined ? { certCriticalDays: config.certCriticalDays } : {}),
    ...(config.expectBanner !== undefined ? { expectBanner: config.expectBanner } : {}),
    ...(config.verifyTls !== undefined ? { verifyTls: config.verifyTls } : {}),
  };
}
