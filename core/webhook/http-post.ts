import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";

/**
 * Kept-alive connections per receiver. node:http rather than fetch: on a 2-core machine a POST
 * through fetch costs about three times the CPU, and the outbox must keep up with bursts of
 * a thousand events a second. Redirects are never followed (node:http does not follow them).
 */
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

export interface PostAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** At most `maxAnswerBytes` of the answer's body; the rest is never read. */
  readonly body: string;
}

/** The whole exchange took longer than its deadline. */
export class PostTimeoutError extends Error {
  override readonly name = "PostTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/**
 * One POST with a deadline over connecting, sending and reading the answer. Rejects with a
 * PostTimeoutError at the deadline, or with the socket's error (its `code`: ECONNREFUSED...).
 */
export function postBounded(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: {
    readonly timeoutMs: number;
    readonly maxAnswerBytes: number;
    /** How the host name is resolved when a connection is made (a guard against refused addresses). */
    readonly lookup?: LookupFunction;
  },
): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: "POST",
        agent: url.protocol === "https:" ? httpsAgent : httpAgent,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        ...(options.lookup ? { lookup: options.lookup } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          settle(() =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).subarray(0, options.maxAnswerBytes).toString("utf8"),
            }),
          );
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= options.maxAnswerBytes) {
            done();
            // A long answer is cut off; its connection is not reused.
            response.destroy();
          }
        });
        response.on("end", done);
        response.on("error", (error) => settle(() => reject(error)));
      },
    );
    const timer = setTimeout(() => {
      const error = new PostTimeoutError(options.timeoutMs);
      settle(() => reject(error));
      request.destroy(error);
    }, options.timeoutMs);
    request.on("error", (error) => settle(() => reject(error)));
    request.end(body);
  });
}
