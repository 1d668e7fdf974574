import { isIP } from "node:net";
import type { PostureOptions } from "../../core/posture/check-posture.ts";
import type { DnsblList } from "../../core/posture/dnsbl-lists.ts";
import { nonEmptyPath, UsageError } from "./io.ts";

/** The `email-scout posture` options of MTA-STS, TLS-RPT, reverse DNS and blocklists. */
export const POSTURE_RECORD_OPTIONS = {
  "mta-sts-required": { type: "boolean" },
  "tls-rpt-required": { type: "boolean" },
  "ca-file": { type: "string" },
  "https-timeout": { type: "string" },
  banner: { type: "string", multiple: true },
  dnsbl: { type: "string", multiple: true },
  "no-dnsbl": { type: "boolean" },
  "outbound-ip": { type: "string", multiple: true },
} as const;

export interface PostureRecordValues {
  readonly "mta-sts-required"?: boolean;
  readonly "tls-rpt-required"?: boolean;
  readonly "ca-file"?: string;
  readonly "https-timeout"?: string;
  readonly banner?: string[];
  readonly dnsbl?: string[];
  readonly "no-dnsbl"?: boolean;
  readonly "outbound-ip"?: string[];
}

const HOST = /^(?=.{1,253}\.?$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}\.?$/i;

/** "ZONE" or "ZONE=WARNING|CRITICAL": a listing is WARNING unless said; known lists' codes come with the zone. */
function parseDnsbl(text: string): DnsblList {
  const [zone = "", severity = "WARNING", ...rest] = text.split("=");
  if (!HOST.test(zone) || rest.length > 0)
    throw new UsageError(`--dnsbl needs ZONE or ZONE=WARNING|CRITICAL, got "${text}"`);
  const upper = severity.toUpperCase();
  if (upper !== "WARNING" && upper !== "CRITICAL")
    throw new UsageError(`--dnsbl severity must be WARNING or CRITICAL, got "${severity}"`);
  return { zone, severity: upper };
}

/** "MXHOST=NAME": the host name MXHOST's SMTP banner announced. */
function parseBanners(texts: readonly string[]): Record<string, string> {
  const banners: Record<string, string> = {};
  for (const text of texts) {
    const [host = "", name = "", ...rest] = text.split("=");
    if (!HOST.test(host) || !HOST.test(name) || rest.length > 0)
      throw new UsageError(`--banner needs MXHOST=NAME (two host names), got "${text}"`);
    banners[host] = name;
  }
  return banners;
}

/** The PostureOptions these flags set; each absent flag leaves its check's default. */
export function postureRecordOptions(values: PostureRecordValues): PostureOptions {
  const timeoutText = values["https-timeout"];
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
    throw new UsageError(`--https-timeout needs a positive number of seconds, got "${timeoutText}"`);
  const caFile = nonEmptyPath(values["ca-file"], "--ca-file");
  for (const ip of values["outbound-ip"] ?? []) {
    if (isIP(ip) === 0) throw new UsageError(`--outbound-ip needs an IP address, got "${ip}"`);
  }
  if (values["no-dnsbl"] && values.dnsbl) throw new UsageError("give --dnsbl or --no-dnsbl, not both");
  const dnsbls = values["no-dnsbl"] ? [] : values.dnsbl?.map(parseDnsbl);
  return {
    mtaSts: {
      ...(values["mta-sts-required"] ? { required: true } : {}),
      ...(caFile === undefined ? {} : { caFile }),
      ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
    },
    ...(values["tls-rpt-required"] ? { tlsRptRequired: true } : {}),
    ...(values.banner ? { bannerHosts: parseBanners(values.banner) } : {}),
    ...(dnsbls === undefined ? {} : { dnsbls }),
    ...(values["outbound-ip"] ? { outboundIps: values["outbound-ip"] } : {}),
  };
}
