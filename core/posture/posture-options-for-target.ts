import { isIP } from "node:net";
import { getDomain } from "tldts";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import type { TargetConfig } from "../config/schema.ts";
import type { JobConfig } from "../ports/job-ports.ts";
import type { PostureOptions } from "./check-posture.ts";

/** What besides the target its posture options may be drawn from. */
export interface PostureContext {
  /** The whole configuration: the posture block, and any key a posture check adds. */
  readonly config: JobConfig;
  /** The probes' From address: by default DMARC alignment is judged for its domain. */
  readonly probeFrom: string;
  /** MX host -> the host name its SMTP greeting announced, from the target's latest checks. */
  readonly bannerHosts?: Readonly<Record<string, string>>;
}

/**
 * The one place a target's configuration becomes checkPosture's options, so a new posture
 * option (and its config key) is wired here and nowhere else.
 */
export function postureOptionsForTarget(
  target: TargetConfig,
  { config, probeFrom, bannerHosts }: PostureContext,
): PostureOptions {
  const overrides = target.posture;
  const fromDomain = overrides?.fromDomain ?? ownFromDomain(probeFrom, target.domain);
  const { dnsbls, outboundIps, httpsTimeoutSeconds, budgetSeconds } = config.posture;
  const senderIp = overrides?.senderIp ?? config.posture.senderIp;
  return {
    budgetMs: budgetSeconds * 1000,
    endpointHosts: mxFacingHosts(target),
    mtaSts: { required: overrides?.mtaStsRequired ?? false, timeoutMs: httpsTimeoutSeconds * 1000 },
    tlsRptRequired: overrides?.tlsRptRequired ?? false,
    ...(senderIp === undefined ? {} : { senderIp }),
    ...(overrides?.ignore === undefined ? {} : { ignore: overrides.ignore }),
    ...(fromDomain === undefined ? {} : { fromDomain }),
    ...(dnsbls === undefined ? {} : { dnsbls }),
    ...(outboundIps === undefined ? {} : { outboundIps }),
    ...(bannerHosts === undefined || Object.keys(bannerHosts).length === 0 ? {} : { bannerHosts }),
  };
}

/**
 * The probes' From domain when it belongs to the target's organizational domain (Public Suffix
 * List): only then does the target's DMARC record govern the probes, and alignment mean something.
 */
function ownFromDomain(probeFrom: string, targetDomain: string | undefined): string | undefined {
  const from = probeFrom.split("@")[1]?.toLowerCase();
  if (from === undefined || targetDomain === undefined) return undefined;
  const organizational = (name: string) => getDomain(name, { allowPrivateDomains: true }) ?? name;
  return organizational(from) === organizational(targetDomain.toLowerCase()) ? from : undefined;
}

/**
 * The host names of the target's port-25 SMTP endpoints: the hosts the MX records should name.
 * Submission and access endpoints are not MX hosts, and an IP literal can never equal an MX name.
 */
function mxFacingHosts(target: TargetConfig): string[] {
  const hosts = target.endpoints
    .map((endpoint) => parseEndpointUrl(endpoint.url))
    .filter((endpoint) => endpoint.kind === "smtp" && endpoint.port === 25 && isIP(endpoint.host) === 0)
    .map((endpoint) => endpoint.host.toLowerCase());
  return [...new Set(hosts)];
}
