import { isIP } from "node:net";
import {
  ENDPOINT_KINDS,
  type EndpointKindName,
  isEndpointKindName,
  type Protocol,
  type TlsMode,
} from "./endpoint-kinds.ts";
import { CheckConfigError } from "./errors.ts";

/** How STARTTLS is treated on a plain-text port: insist on it, use it if offered, or never. */
export type StartTlsPolicy = "required" | "optional" | "off";
export type IpFamily = 4 | 6 | "any";

export interface Endpoint {
  /** The URL as written, for display and as the endpoint's identity. */
  readonly url: string;
  readonly kind: EndpointKindName;
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMode;
  readonly startTls: StartTlsPolicy;
  readonly family: IpFamily;
  /** Name sent as SNI and checked against the certificate; defaults to the host. */
  readonly tlsServerName?: string;
}

const QUERY_KEYS = ["starttls", "family", "servername"] as const;

/**
 * Parses an endpoint URL such as `smtp://mail.example.com`, `imaps://[2001:db8::1]:10993`
 * or `submission://host?starttls=optional&family=6&servername=mx.example.com`.
 * Anything it does not understand is an error that names the part.
 */
export function parseEndpointUrl(text: string): Endpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CheckConfigError(`endpoint "${text}" is not a URL; write it like smtp://mail.example.com:25`);
  }
  const kind = url.protocol.replace(/:$/, "");
  if (!isEndpointKindName(kind)) {
    throw new CheckConfigError(
      `endpoint "${text}": unknown scheme "${kind}:"; use one of ${Object.keys(ENDPOINT_KINDS).join(", ")}`,
    );
  }
  const spec = ENDPOINT_KINDS[kind];
  // Non-special schemes keep brackets around IPv6 literals in url.hostname.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new CheckConfigError(`endpoint "${text}" has no host`);
  if (url.username || url.password) {
    throw new CheckConfigError(
      `endpoint "${text}": credentials do not belong in the URL (it is logged); use --user with --password-file or --password-env`,
    );
  }
  if (url.pathname && url.pathname !== "/" && url.pathname !== "") {
    throw new CheckConfigError(`endpoint "${text}": unexpected path "${url.pathname}"`);
  }
  const port = url.port ? Number(url.port) : spec.defaultPort;

  for (const key of url.searchParams.keys()) {
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      throw new CheckConfigError(
        `endpoint "${text}": unknown option "${key}"; known: ${QUERY_KEYS.join(", ")}`,
      );
    }
  }
  const startTls = parseStartTls(text, url.searchParams.get("starttls"), spec.tls);
  const family = parseFamily(text, url.searchParams.get("family"), host);
  const servername = url.searchParams.get("servername") ?? undefined;

  return {
    url: text,
    kind,
    protocol: spec.protocol,
    host,
    port,
    tls: spec.tls,
    startTls,
    family,
    ...(servername ? { tlsServerName: servername } : {}),
  };
}

function parseStartTls(text: string, value: string | null, tls: TlsMode): StartTlsPolicy {
  if (value === null) return tls === "starttls" ? "required" : "off";
  if (tls === "implicit") {
    throw new CheckConfigError(`endpoint "${text}": starttls does not apply to an implicit-TLS port`);
  }
  if (value === "required" || value === "optional" || value === "off") return value;
  throw new CheckConfigError(
    `endpoint "${text}": starttls must be required, optional or off, not "${value}"`,
  );
}

function parseFamily(text: string, value: string | null, host: string): IpFamily {
  const literal = isIP(host);
  if (value === null) return literal === 4 ? 4 : literal === 6 ? 6 : "any";
  if (value !== "4" && value !== "6" && value !== "any") {
    throw new CheckConfigError(`endpoint "${text}": family must be 4, 6 or any, not "${value}"`);
  }
  const family = value === "any" ? "any" : (Number(value) as 4 | 6);
  if (literal && family !== "any" && family !== literal) {
    throw new CheckConfigError(`endpoint "${text}": family=${value} contradicts the IPv${literal} address`);
  }
  return family;
}
