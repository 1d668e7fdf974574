import { dirname, isAbsolute, resolve } from "node:path";
import type { Secret } from "../../core/basics/secret.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import type { EventType } from "../../core/events/event.ts";
import { parseWebhookSecret, WebhookSecretError } from "../../core/webhook/signature.ts";
import { readPrivateFile } from "./private-file.ts";

/** A configured endpoint, ready to deliver to: its secret read and checked. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly secret: Secret;
  readonly timeoutMs: number;
  readonly allowLinkLocalAddresses: boolean;
  readonly events?: readonly EventType[];
  readonly customers?: readonly string[];
}

/** A webhook endpoint or its secret file cannot be used; the message names the endpoint and the fix. */
export class WebhookEndpointError extends Error {
  override readonly name = "WebhookEndpointError";
}

/**
 * The config's webhook endpoints with their secrets read from their files. `baseDir` is where
 * relative secret paths start (the config file's folder). Fails on the first endpoint that
 * cannot be used, so the monitor never starts half-configured.
 */
export function resolveWebhookEndpoints(
  webhooks: ScoutConfig["webhooks"],
  baseDir: string = process.cwd(),
): WebhookEndpoint[] {
  return webhooks.endpoints.map((endpoint, index) => {
    const where = `webhooks.endpoints[${index}] (id "${endpoint.id}")`;
    if (!endpoint.secretFile) {
      throw new WebhookEndpointError(
        `${where}: secretFile is required in local mode: put the endpoint's whsec_ secret in a file (mode 0600) and name it here`,
      );
    }
    const path = isAbsolute(endpoint.secretFile)
      ? endpoint.secretFile
      : resolve(baseDir, endpoint.secretFile);
    return {
      id: endpoint.id,
      url: endpoint.url,
      secret: readWebhookSecretFile(path, where),
      timeoutMs: Math.round(endpoint.timeoutSeconds * 1000),
      allowLinkLocalAddresses: endpoint.allowLinkLocalAddresses,
      ...(endpoint.events ? { events: endpoint.events } : {}),
      ...(endpoint.customers ? { customers: endpoint.customers } : {}),
    };
  });
}

/** The folder relative secret paths in a config file start from. */
export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}

/**
 * Reads a `whsec_` secret from a file. Like the probe key, a file that group or others may
 * read is refused: whoever holds the secret can forge events.
 */
export function readWebhookSecretFile(path: string, where = "webhook secret"): Secret {
  let text: string;
  try {
    text = readPrivateFile(path, where);
  } catch (cause) {
    throw new WebhookEndpointError((cause as Error).message, { cause });
  }
  try {
    return parseWebhookSecret(text);
  } catch (cause) {
    if (cause instanceof WebhookSecretError) {
      throw new WebhookEndpointError(`${where}: secret file ${path}: ${cause.message}`, { cause });
    }
    throw cause;
  }
}
