import { describeError } from "../basics/describe-error.ts";
import type { Secret } from "../basics/secret.ts";
import type { ScoutEvent } from "../events/event.ts";
import type { SerialisedEvent, WebhookPoster } from "../ports/webhook-poster.ts";
import { type PostAnswer, PostTimeoutError, postBounded } from "./http-post.ts";
import type { AttemptOutcome, DeliveryTarget } from "./outcome.ts";
import { parseRetryAfter } from "./retry-after.ts";
import { signWebhook, webhookKey } from "./signature.ts";
import { WEBHOOK_USER_AGENT } from "./user-agent.ts";

/** Answers are only read for an error text; a hostile receiver cannot make us read more. */
export const MAX_ANSWER_BYTES = 1024;
/** Error texts kept in logs and the outbox. */
const MAX_ERROR_CHARS = 200;

/** Statuses worth trying again: the receiver is busy or broken for now (RFC 9110, 6585). */
const RETRYABLE_STATUS = new Set([408, 429]);

/**
 * One signed POST of one event to one endpoint, with a deadline over the whole exchange.
 * Never throws for anything the network or the receiver does: every failure is an outcome.
 * (It throws WebhookSecretError for a malformed secret: a configuration mistake, caught at start.)
 */
export async function attemptDelivery(
  target: DeliveryTarget,
  event: ScoutEvent | SerialisedEvent,
  nowMs: number,
): Promise<AttemptOutcome> {
  const body = "json" in event && typeof event.json === "string" ? event.json : JSON.stringify(event);
  const headers = signWebhook(keyOf(target.secret), event.id, nowMs / 1000, body);
  let url: URL;
  try {
    url = new URL(target.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(url.protocol);
  } catch {
    return { kind: "rejected", durationMs: 0, error: short(`not an http(s) URL: ${target.url}`) };
  }
  const started = performance.now();
  let answer: PostAnswer;
  try {
    answer = await postBounded(
      url,
      { ...headers, "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT },
      body,
      { timeoutMs: target.timeoutMs, maxAnswerBytes: MAX_ANSWER_BYTES },
    );
  } catch (error) {
    return { kind: "retry", durationMs: elapsedSince(started), error: networkError(error) };
  }
  const durationMs = elapsedSince(started);
  const status = answer.status;
  const text = answer.body.replace(/\s+/g, " ").trim();
  if (status >= 200 && status < 300) return { kind: "delivered", status, durationMs };
  const said = text ? `: ${text}` : "";
  if (status >= 500 || RETRYABLE_STATUS.has(status)) {
    const retryAfterMs = parseRetryAfter(headerValue(answer.headers["retry-after"]), nowMs);
    return {
      kind: "retry",
      status,
      durationMs,
      error: short(`HTTP ${status}${said}`),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (status === 410) {
    return {
      kind: "gone",
      status,
      durationMs,
      error: short(`HTTP 410 Gone: the receiver asks for no more events at this URL${said}`),
    };
  }
  if (status >= 300 && status < 400) {
    const location = headerValue(answer.headers.location);
    return {
      kind: "rejected",
      status,
      durationMs,
      error: short(
        `HTTP ${status} redirect${location ? ` to ${location}` : ""}: redirects are not followed, configure the final URL`,
      ),
    };
  }
  return { kind: "rejected", status, durationMs, error: short(`HTTP ${status}${said}`) };
}

/**
 * The poster both shells use: signed HTTP(S) POSTs. attemptDelivery turns every network failure
 * into an outcome; anything else it throws is a bug, and still must not lose the event.
 */
export const HTTP_WEBHOOK_POSTER: WebhookPoster = {
  attempt: (target, event, nowMs) =>
    attemptDelivery(target, event, nowMs).catch(
      (error: unknown): AttemptOutcome => ({
        kind: "retry",
        durationMs: 0,
        error: short(`internal error: ${describeError(error)}`),
      }),
    ),
};

/** Decoded keys per Secret object, so a busy endpoint does not decode its secret per POST. */
const decodedKeys = new WeakMap<Secret, Buffer>();

function keyOf(secret: Secret | string): Buffer {
  if (typeof secret === "string") return webhookKey(secret);
  let key = decodedKeys.get(secret);
  if (!key) {
    key = webhookKey(secret);
    decodedKeys.set(secret, key);
  }
  return key;
}

function elapsedSince(started: number): number {
  return Math.round(performance.now() - started);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function networkError(error: unknown): string {
  if (error instanceof PostTimeoutError) return error.message;
  const err = error as NodeJS.ErrnoException;
  if (err.code) return short(`${err.code}: ${err.message}`);
  return short(err.message ?? String(error));
}

function short(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
