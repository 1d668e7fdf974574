import { Secret } from "../basics/secret.ts";
import type { Clock } from "../ports/clock.ts";

/*
 * Access tokens for XOAUTH2/OAUTHBEARER mailbox logins by the OAuth 2.0 client-credentials
 * grant (RFC 6749 §4.4): what Microsoft 365 and Google Workspace require for IMAP and POP3 by
 * an application. A token is kept until shortly before it expires and then fetched again; one
 * request at a time per source. Neither the client secret nor a token is ever put in an error,
 * a log line or JSON (both are Secrets).
 */

export type OAuthTokenFailure = "unreachable" | "refused" | "bad-response";

/** No token: the message names the token endpoint and what went wrong, never a secret. */
export class OAuthTokenError extends Error {
  override readonly name = "OAuthTokenError";
  constructor(
    readonly reason: OAuthTokenFailure,
    readonly tokenUrl: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`OAuth token from ${tokenUrl}: ${message}`, options);
  }
}

export interface OAuthClient {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: () => Promise<Secret>;
  readonly scope?: string;
}

export interface TokenSourceOptions {
  readonly clock: Clock;
  /** Fetch again this long before expiry (default 5 minutes, at most half the lifetime). */
  readonly refreshBeforeMs?: number;
  readonly timeoutMs?: number;
}

/** A token without expires_in is taken to last this long (RFC 6749 leaves it to the server). */
const DEFAULT_LIFETIME_MS = 3_600_000;
const MAX_RESPONSE_CHARS = 64 * 1024;

export class OAuthTokenSource {
  private held: { token: Secret; refreshAtMs: number } | undefined;
  private inFlight: Promise<Secret> | undefined;

  constructor(
    private readonly client: OAuthClient,
    private readonly options: TokenSourceOptions,
  ) {}

  /** A token valid for a while yet: the one held, or a fresh one. */
  async accessToken(): Promise<Secret> {
    const held = this.held;
    if (held !== undefined && this.options.clock.now() < held.refreshAtMs) return held.token;
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<Secret> {
    const { tokenUrl, clientId, scope } = this.client;
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: (await this.client.clientSecret()).reveal(),
      ...(scope === undefined ? {} : { scope }),
    });
    const requestedAtMs = this.options.clock.now();
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form,
        redirect: "error",
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (cause) {
      throw new OAuthTokenError("unreachable", tokenUrl, (cause as Error).message, { cause });
    }
    const text = (await response.text()).slice(0, MAX_RESPONSE_CHARS);
    const body = parseJson(text);
    if (!response.ok) {
      // RFC 6749 §5.2: error and error_description say why (invalid_client, invalid_scope...).
      const error = typeof body?.error === "string" ? body.error : "no error code";
      const description = typeof body?.error_description === "string" ? `: ${body.error_description}` : "";
      throw new OAuthTokenError("refused", tokenUrl, `HTTP ${response.status}, ${error}${clip(description)}`);
    }
    const token = body?.access_token;
    if (typeof token !== "string" || token === "") {
      throw new OAuthTokenError("bad-response", tokenUrl, "the response has no access_token");
    }
    const expiresIn = body?.expires_in;
    const lifetimeMs =
      typeof expiresIn === "number" && expiresIn > 0
        ? expiresIn * 1000
        : typeof expiresIn === "string" && Number(expiresIn) > 0
          ? Number(expiresIn) * 1000
          : DEFAULT_LIFETIME_MS;
    const refreshBeforeMs = Math.min(this.options.refreshBeforeMs ?? 5 * 60_000, lifetimeMs / 2);
    const secret = new Secret(token);
    this.held = { token: secret, refreshAtMs: requestedAtMs + lifetimeMs - refreshBeforeMs };
    return secret;
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length <= 300 ? printable : `${printable.slice(0, 297)}...`;
}
