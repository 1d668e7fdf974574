import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { ENDPOINT_KINDS, type Protocol } from "../../core/checks/endpoint-kinds.ts";
import type { DeployConfig, TargetConfig } from "../../core/config/schema.ts";

/** HTTPS to the AWS APIs the prober calls (DynamoDB, SES, Secrets Manager, SQS, X-Ray). */
export const AWS_API_PORT = 443;

/**
 * Every default mail port, plus any other port an endpoint or a fetch-mode mailbox of the
 * configuration names, and an OAuth token endpoint's port when it is not 443, sorted.
 */
export function proberMailPorts(config: DeployConfig): number[] {
  const ports = new Set<number>(Object.values(ENDPOINT_KINDS).map((kind) => kind.defaultPort));
  for (const target of config.targets) {
    for (const endpoint of target.endpoints) ports.add(parseEndpointUrl(endpoint.url).port);
    const fetch = target.probe?.fetch;
    if (fetch !== undefined) ports.add(parseEndpointUrl(fetch.url).port);
    if (fetch?.oauth !== undefined) {
      const tokenUrl = new URL(fetch.oauth.tokenUrl);
      const port = Number(tokenUrl.port || (tokenUrl.protocol === "http:" ? 80 : AWS_API_PORT));
      if (port !== AWS_API_PORT) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** The protocols a target's checks report (CheckResult.protocol: smtp, imap or pop3), in first-seen order. */
export function targetProtocols(target: TargetConfig): Protocol[] {
  return [...new Set(target.endpoints.map((endpoint) => parseEndpointUrl(endpoint.url).protocol))];
}
