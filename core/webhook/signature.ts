import { createHmac } from "node:crypto";
import { Secret } from "../basics/secret.ts";

/** Standard Webhooks secrets: "whsec_" then the base64 of the key (https://www.standardwebhooks.com/). */
export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** The spec asks for keys of 24 to 64 bytes. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HOW_TO_MAKE =
  "make one with: node -e \"console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))\"";

/** A webhook secret that cannot be used; the message says what is wrong, never the secret itself. */
export class WebhookSecretError extends Error {
  override readonly name = "WebhookSecretError";
}

/** The HMAC key inside a `whsec_` secret, checked for the spec's format and length. */
export function webhookKey(secret: Secret | string): Buffer {
  const text = (typeof secret === "string" ? secret : secret.reveal()).trim();
  if (!text.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new WebhookSecretError(
      `a webhook secret must start with "${WEBHOOK_SECRET_PREFIX}"; ${HOW_TO_MAKE}`,
    );
  }
  const encoded = text.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) {
    throw new WebhookSecretError(
      `the part of a webhook secret after "${WEBHOOK_SECRET_PREFIX}" must be standard base64 (A-Z a-z 0-9 + / and = padding); ${HOW_TO_MAKE}`,
    );
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new WebhookSecretError(
      `a webhook secret must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, this one holds ${key.length}; ${HOW_TO_MAKE}`,
    );
  }
  return key;
}

/** Validates a `whsec_` secret read from a file and wraps it so it is never logged. */
export function parseWebhookSecret(text: string): Secret {
  const secret = new Secret(text.trim());
  webhookKey(secret);
  return secret;
}

export interface SignedHeaders {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
}

/**
 * The three Standard Webhooks headers for one POST: the signature is the base64 HMAC-SHA256,
 * keyed with the secret's decoded bytes, of `${id}.${timestamp}.${body}`.
 */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): SignedHeaders {
  if (id.includes(".")) throw new RangeError(`a webhook id must not contain ".": ${JSON.stringify(id)}`);
  const timestamp = String(Math.floor(timestampSeconds));
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
