import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import { describeError } from "../basics/describe-error.ts";
import { trustContext } from "../checks/trust-store.ts";
import { addresses } from "../dns/dns-records.ts";
import type { DnsResolver } from "../dns/dns-resolver.ts";

/**
 * The port the MTA-STS check fetches its policy through: one HTTPS GET of a URL, verified
 * against the system's CAs (or a CA file), with a deadline and a size limit. The default goes
 * over the network; tests give one that points the host at a local server.
 */
export interface PolicyFetchRequest {
  readonly url: string;
  /** A PEM file of CAs to trust instead of the system's (a private CA). */
  readonly caFile?: string;
  /** Everything (DNS, connect, TLS, the whole body) done by this time, ms since the epoch. */
  readonly deadline: number;
  /** A larger body is an error, not a policy. */
  readonly maxBytes: number;
}

export interface PolicyFetchResponse {
  readonly status: number;
  readonly contentType?: string;
  /** A redirect's target: reported, never followed (RFC 8461 §3.3). */
  readonly location?: string;
  readonly body: string;
  /** The server certificate's not-after, ISO 8601. */
  readonly certificateNotAfter?: string;
}

export type PolicyFetch = (request: PolicyFetchRequest) => Promise<PolicyFetchResponse>;

/** The fetch failed: the message says which step (DNS, connect, TLS, size, deadline) and why. */
export class PolicyFetchError extends Error {
  override readonly name = "PolicyFetchError";
}

/** The first address of a host, asked through the posture checks' own resolver. */
async function addressOf(resolver: DnsResolver, host: string): Promise<string> {
  for (const type of ["A", "AAAA"] as const) {
    const found = addresses(await resolver.query(host, type));
    if (found[0] !== undefined) return found[0];
  }
  throw new PolicyFetchError(`${host} has no A or AAAA record`);
}

/** Fetches over HTTPS, the policy host's name resolved through `resolver`. */
export function createHttpsPolicyFetch(resolver: DnsResolver): PolicyFetch {
  return async ({ url, caFile, deadline, maxBytes }) => {
    const target = new URL(url);
    if (target.protocol !== "https:") throw new PolicyFetchError(`${url} is not an https: URL`);
    const host = await addressOf(resolver, target.hostname);
    const secureContext = trustContext(caFile);
    return new Promise<PolicyFetchResponse>((resolve, reject) => {
      const fail = (message: string, cause?: unknown) => {
        clearTimeout(timer);
        call.destroy();
        reject(new PolicyFetchError(message, { cause }));
      };
      const call = httpsRequest({
        host,
        port: target.port === "" ? 443 : Number(target.port),
        path: `${target.pathname}${target.search}`,
        method: "GET",
        // The certificate must name the policy host (RFC 8461 §3.3): Node checks servername.
        servername: target.hostname,
        headers: { host: target.host, accept: "text/plain", "user-agent": "email-scout" },
        rejectUnauthorized: true,
        agent: false,
        // Passed through to tls.connect, which takes it; the https typings leave it out.
        ...({ secureContext } as object),
      });
      const budget = Math.max(0, deadline - Date.now());
      const timer = setTimeout(() => fail(`no complete reply within ${budget} ms`), budget);
      call.on("error", (error: NodeJS.ErrnoException) =>
        fail(`${describeError(error)}${error.code ? ` (${error.code})` : ""}`, error),
      );
      call.on("response", (response) => {
        const certificate = (response.socket as TLSSocket).getPeerCertificate?.();
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) fail(`the reply is over ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on("error", (error) => fail(describeError(error), error));
        response.on("end", () => {
          clearTimeout(timer);
          const type = response.headers["content-type"];
          const location = response.headers.location;
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ...(type === undefined ? {} : { contentType: type }),
            ...(location === undefined ? {} : { location }),
            ...(certificate?.valid_to
              ? { certificateNotAfter: new Date(certificate.valid_to).toISOString() }
              : {}),
          });
        });
      });
      call.end();
    });
  };
}
