import type { Secret } from "../../core/basics/secret.ts";
import { parseWebhookSecret, WebhookSecretError } from "../../core/webhook/signature.ts";
import type { SecretCache } from "../aws/secret-cache.ts";
import { ENV } from "./env.ts";

/** The key the stack's generated placeholder value holds; never an endpoint's secret. */
export const PLACEHOLDER_KEY = "replace-me";

/** An endpoint has no usable secret; the message names the secret, the endpoint and the fix, never a value. */
export class WebhookSecretMissingError extends Error {
  override readonly name = "WebhookSecretMissingError";
  constructor(
    readonly secretId: string,
    /** Undefined when the whole secret is unusable. */
    readonly endpointId: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The endpoints' `whsec_` secrets from one Secrets Manager secret holding a JSON map
 * {"<endpoint id>": "whsec_..."}, read through the container's cache (a rotation is seen within
 * the cache's TTL). Each endpoint's value is checked when first used, so one bad entry fails
 * only that endpoint's deliveries.
 */
export class WebhookSecrets {
  private parsed: { text: string; map: Record<string, unknown>; secrets: Map<string, Secret> } | undefined;

  constructor(
    private readonly cache: SecretCache,
    private readonly secretId: string,
  ) {}

  async secretFor(endpointId: string): Promise<Secret> {
    const { map, secrets } = this.current(await this.cache.get(this.secretId));
    const held = secrets.get(endpointId);
    if (held !== undefined) return held;
    const value = endpointId === PLACEHOLDER_KEY ? undefined : map[endpointId];
    if (typeof value !== "string") {
      throw new WebhookSecretMissingError(
        this.secretId,
        endpointId,
        `the webhook secret ${this.secretId} (${ENV.webhookSecretArn}) holds no whsec_ secret for endpoint "${endpointId}": ` +
          `add "${endpointId}": "whsec_..." to its JSON map (docs/aws.md, "Set the webhook secrets")`,
      );
    }
    try {
      const secret = parseWebhookSecret(value);
      secrets.set(endpointId, secret);
      return secret;
    } catch (cause) {
      const reason = cause instanceof WebhookSecretError ? cause.message : String(cause);
      throw new WebhookSecretMissingError(
        this.secretId,
        endpointId,
        `the webhook secret ${this.secretId} (${ENV.webhookSecretArn}), key "${endpointId}": ${reason}`,
        { cause },
      );
    }
  }

  /** The map of the text the cache holds now, parsed again only when that text changed. */
  private current(text: string): { map: Record<string, unknown>; secrets: Map<string, Secret> } {
    if (this.parsed?.text === text) return this.parsed;
    let map: unknown;
    try {
      map = JSON.parse(text);
    } catch {
      map = undefined;
    }
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
      // The JSON parser's message may quote the value: it is left out.
      throw new WebhookSecretMissingError(
        this.secretId,
        undefined,
        `the webhook secret ${this.secretId} (${ENV.webhookSecretArn}) is not a JSON object: ` +
          'set it to {"<endpoint id>": "whsec_..."} (docs/aws.md, "Set the webhook secrets")',
      );
    }
    this.parsed = { text, map: map as Record<string, unknown>, secrets: new Map() };
    return this.parsed;
  }
}
