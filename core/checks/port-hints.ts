import type { Endpoint } from "./endpoint.ts";
import { ENDPOINT_KINDS, type EndpointKindName } from "./endpoint-kinds.ts";
import { CheckFailure } from "./errors.ts";

/**
 * The well-known port of each kind, the other way round: which URL a port usually wants.
 * `imap://host:993` waits for a greeting the server never sends (it waits for a TLS hello),
 * and `imaps://host:143` gets plain text where a TLS record should be; both look like a broken
 * server unless the message names the likely mistake.
 */
const KIND_OF_PORT = new Map<number, EndpointKindName>(
  (Object.entries(ENDPOINT_KINDS) as [EndpointKindName, (typeof ENDPOINT_KINDS)[EndpointKindName]][]).map(
    ([name, kind]) => [kind.defaultPort, name],
  ),
);

/** `failure` with a hint appended when the URL's kind does not fit its port's usual one. */
export function withPortHint(endpoint: Endpoint, failure: CheckFailure): CheckFailure {
  const usual = KIND_OF_PORT.get(endpoint.port);
  if (usual === undefined || usual === endpoint.kind) return failure;
  const usualTls = ENDPOINT_KINDS[usual].tls;
  const waitedForPlainGreeting =
    endpoint.tls === "starttls" && usualTls === "implicit" && failure.reason === "timeout-greeting";
  const gotPlainForTls =
    endpoint.tls === "implicit" && usualTls === "starttls" && failure.reason === "tls-failed";
  if (!waitedForPlainGreeting && !gotPlainForTls) return failure;
  const why = waitedForPlainGreeting
    ? `port ${endpoint.port} usually speaks TLS from the first byte`
    : `port ${endpoint.port} usually speaks plain text first and upgrades with STARTTLS`;
  const hint = `; ${why}: did you mean ${usual}://${hostForUrl(endpoint.host)}:${endpoint.port}?`;
  return new CheckFailure(failure.reason, failure.phase, `${failure.message}${hint}`, failure.serverReply, {
    cause: failure,
  });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
