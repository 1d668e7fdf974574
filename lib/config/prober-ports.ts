import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { ENDPOINT_KINDS, type Protocol } from "../../core/checks/endpoint-kinds.ts";
import type { DeployConfig, TargetConfig } from "../../core/config/schema.ts";

/** HTTPS to the AWS APIs the prober calls (DynamoDB, SES, Secrets Manager, SQS, X-Ray). */
export const AWS_API_PORT = 443;

/** Every default mail port, plus any other port an endpoint of the configuration names, sorted. */
export function proberMailPorts(config: DeployConfig): number[] {
  const ports = new Set<number>(Object.values(ENDPOINT_KINDS).map((kind) => kind.defaultPort));
  for (const target of config.targets) {
    for (const endpoint of target.endpoints) ports.add(parseEndpointUrl(endpoint.url).port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** The protocols a target's checks report (CheckResult.protocol: smtp, imap or pop3), in first-seen order. */
export function targetProtocols(target: TargetConfig): Protocol[] {
  return [...new Set(target.endpoints.map((endpoint) => parseEndpointUrl(endpoint.url).protocol))];
}
