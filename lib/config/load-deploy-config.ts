import { readFileSync } from "node:fs";
import { ConfigError, parseDeployConfigText } from "../../core/config/parse-config.ts";
import type { DeployConfig } from "../../core/config/schema.ts";

export const DEFAULT_DEPLOY_CONFIG = "config/aws-example.yaml";

/**
 * Reads and validates the deploy configuration (the local mode's format), then the rules only the
 * AWS shape adds. Every problem is a ConfigError naming the file and the key.
 */
export function loadDeployConfig(path: string): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(path, [
      `cannot read the file (${code}); pass another one with -c config=path/to/config.yaml`,
    ]);
  }
  const config = parseDeployConfigText(text, path);
  const problems = awsProblems(config);
  if (problems.length > 0) throw new ConfigError(path, problems);
  return config;
}

/** The sender address of probes: the same fallback as local mode. */
export function probeFromAddress(config: DeployConfig): string {
  return config.outbound.from ?? config.inbound.returnAddress;
}

/** Rules of the AWS deployment on top of the shared schema. */
function awsProblems(config: DeployConfig): string[] {
  const problems: string[] = [];
  const fromDomain = probeFromAddress(config).split("@")[1]?.toLowerCase();
  if (fromDomain !== config.inbound.domain.toLowerCase()) {
    problems.push(
      `outbound.from: must be at the inbound domain ${config.inbound.domain} on AWS: SES sends only from the identity this stack verifies`,
    );
  }
  config.targets.forEach((target, t) => {
    target.endpoints.forEach((endpoint, e) => {
      const reference = endpoint.login?.passwordFile;
      if (reference !== undefined && !SECRET_ARN.test(reference)) {
        problems.push(
          `targets[${t}].endpoints[${e}].login.passwordFile: on AWS this must be the ARN of a Secrets Manager secret holding the password (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path`,
        );
      }
    });
  });
  return problems;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** The Secrets Manager ARNs of the endpoints' login passwords (on AWS, login.passwordFile holds one). */
export function loginPasswordSecretArns(config: DeployConfig): string[] {
  const arns = config.targets.flatMap((target) =>
    target.endpoints.flatMap((endpoint) => (endpoint.login ? [endpoint.login.passwordFile] : [])),
  );
  return [...new Set(arns)];
}
