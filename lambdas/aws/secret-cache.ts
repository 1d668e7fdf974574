import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Clock } from "../../core/ports/clock.ts";
import { systemClock } from "../../core/ports/clock.ts";

/** 15 minutes: a rotated secret is picked up within that, at one GetSecretValue per container per period. */
export const DEFAULT_SECRET_TTL_MS = 15 * 60_000;

/** A secret could not be read; the message names the secret (never its value) and the fix. */
export class SecretReadError extends Error {
  override readonly name = "SecretReadError";
  constructor(
    readonly secretId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Secrets Manager SecretStrings, read once and kept for the container's life with a TTL. When a
 * refresh fails, the value already held is used until the refresh succeeds: a short Secrets
 * Manager outage must not stop the monitor. Values never reach a log or an error message.
 */
export class SecretCache {
  private readonly entries = new Map<string, { value: string; fetchedAtMs: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs = DEFAULT_SECRET_TTL_MS,
    private readonly clock: Clock = systemClock,
    private readonly onStaleUse: (secretId: string, error: unknown) => void = () => {},
  ) {}

  async get(secretId: string): Promise<string> {
    const held = this.entries.get(secretId);
    if (held !== undefined && this.clock.now() - held.fetchedAtMs < this.ttlMs) return held.value;
    try {
      return await this.fetchOnce(secretId);
    } catch (error) {
      if (held === undefined) throw error;
      this.onStaleUse(secretId, error);
      return held.value;
    }
  }

  /** Concurrent callers share one request. */
  private fetchOnce(secretId: string): Promise<string> {
    const running = this.inFlight.get(secretId);
    if (running !== undefined) return running;
    const request = this.fetch(secretId).finally(() => this.inFlight.delete(secretId));
    this.inFlight.set(secretId, request);
    return request;
  }

  private async fetch(secretId: string): Promise<string> {
    let value: string | undefined;
    try {
      value = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (cause) {
      const reason = (cause as Error).name ?? "Error";
      throw new SecretReadError(
        secretId,
        `cannot read secret ${secretId}: ${reason}: ${(cause as Error).message}` +
          (reason === "AccessDeniedException" ? " (grant secretsmanager:GetSecretValue on it)" : ""),
        { cause },
      );
    }
    if (value === undefined) {
      throw new SecretReadError(
        secretId,
        `secret ${secretId} has no SecretString (binary secrets are not supported): store it as text`,
      );
    }
    this.entries.set(secretId, { value, fetchedAtMs: this.clock.now() });
    return value;
  }
}
