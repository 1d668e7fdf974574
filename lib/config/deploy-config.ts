import { loadConfigFile } from "../../core/config/load-config.ts";
import type { DeployConfig } from "../../core/config/schema.ts";

/** The configuration `cdk synth` and `cdk deploy` read when no -c config=... names one. */
export const DEFAULT_DEPLOY_CONFIG = "config/aws-example.yaml";

/** How the CDK app is pointed at another file, for the message when the file cannot be read. */
export const DEPLOY_CONFIG_HINT = "pass another one with -c config=path/to/config.yaml";

/** The CDK app's configuration: the one loader in its AWS shape (core/config/load-config.ts). */
export function loadStackConfig(path: string): DeployConfig {
  return loadConfigFile(path, "aws", { hint: DEPLOY_CONFIG_HINT });
}

/**
 * The Secrets Manager ARNs of the login secrets the prober reads (on AWS each file key holds
 * one): the endpoints' passwords, and the probe mailboxes' passwords and OAuth client secrets.
 */
export function loginPasswordSecretArns(config: DeployConfig): string[] {
  const arns = config.targets.flatMap((target) => {
    const fetch = target.probe?.fetch;
    return [
      ...target.endpoints.flatMap((endpoint) => (endpoint.login ? [endpoint.login.passwordFile] : [])),
      ...(fetch?.passwordFile === undefined ? [] : [fetch.passwordFile]),
      ...(fetch?.oauth === undefined ? [] : [fetch.oauth.clientSecretFile]),
    ];
  });
  return [...new Set(arns)];
}

/** The Secrets Manager ARNs of the probe targets' own key rings (on AWS, probe.keyFile holds one). */
export function probeKeySecretArns(config: DeployConfig): string[] {
  const arns = config.targets.flatMap((target) => (target.probe?.keyFile ? [target.probe.keyFile] : []));
  return [...new Set(arns)];
}

/** Whether some probe target has no key ring of its own, and so uses the stack's global probe key secret. */
export function usesGlobalProbeKey(config: DeployConfig): boolean {
  return config.targets.some((target) => target.probe !== undefined && target.probe.keyFile === undefined);
}
