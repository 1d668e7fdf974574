import { describeError } from "../basics/describe-error.ts";
import type { Secret } from "../basics/secret.ts";
import type { ScoutEvent } from "../events/event.ts";
import type { SerialisedEvent, WebhookPoster } from "../ports/webhook-poster.ts";
import { type PostAnswer, PostTimeoutError, postBounded } from "./http-post.ts";
import type { AttemptOutcome, DeliveryTarget } from "./outcome.ts";
import { redactUrl, redactUrlsIn } from "./redact-url.ts";
import { parseRetryAfter } from "./retry-after.ts";
import { signWebhook, webhookKey } from "./signature.ts";
import { guardedLookup, type LookupAll, RefusedAddressError, refusedUrlHost } from "./target-address.ts";
import { WEBHOOK_USER_AGENT } from "./user-agent.ts";

/** Answers are only read for an error text; a hostile receiver cannot make us read more. */
export const MAX_ANSWER_BYTES = 1024;
/** Error texts kept in logs and the outbox. */
const MAX_ERROR_CHARS = 200;

/** Statuses worth trying again: the receiver is busy or broken for now (RFC 9110, 6585). */
const RETRYABLE_STATUS = new Set([408, 429]);

/** How attempts resolve host names; tests put a stub resolver here (the guard stays). */
export interface AttemptOptions {
  readonly resolveAll?: LookupAll;
}

/**
 * One signed POST of one event to one endpoint, with a deadline over the whole exchange.
 * Never throws for anything the network or the receiver does: every failure is an outcome.
 * (It throws WebhookSecretError for a malformed secret: a configuration mistake, caught at start.)
 * A host that is, or resolves to, a link-local, metadata or unspecified address is refused
 * ("rejected", not retried) unless the target allows it.
 */
export async function attemptDelivery(
  target: DeliveryTarget,
  event: ScoutEvent | SerialisedEvent,
  nowMs: number,
  options: AttemptOptions = {},
): Promise<AttemptOutcome> {
  const body = "json" in event && typeof event.json === "string" ? event.json : JSON.stringify(event);
  const headers = signWebhook(keyOf(target.secret), event.id, nowMs / 1000, body);
  let url: URL;
  try {
    url = new URL(target.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(url.protocol);
  } catch {
    return { kind: "rejected", durationMs: 0, error: short(`not an http(s) URL: ${redactUrl(target.url)}`) };
  }
  const guarded = !target.allowLinkLocalAddresses;
  const literal = guarded ? refusedUrlHost(url) : undefined;
  if (literal) {
    const error = new RefusedAddressError(literal.address, literal.address, literal.kind);
    return { kind: "rejected", durationMs: 0, error: short(error.message) };
  }
  const started = performance.now();
  let answer: PostAnswer;
  try {
    answer = await postBounded(
      url,
      { ...headers, "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT },
      body,
      {
        timeoutMs: target.timeoutMs,
        maxAnswerBytes: MAX_ANSWER_BYTES,
        ...(guarded
          ? { lookup: options.resolveAll ? guardedLookup(options.resolveAll) : SYSTEM_GUARDED_LOOKUP }
          : {}),
      },
    );
  } catch (error) {
    const durationMs = elapsedSince(started);
    if (error instanceof RefusedAddressError)
      return { kind: "rejected", durationMs, error: short(error.message) };
    return { kind: "retry", durationMs, error: networkError(error) };
  }
  const durationMs = elapsedSince(started);
  const status = answer.status;
  const text = redactUrlsIn(answer.body.replace(/\s+/g, " ").trim());
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
    const given = headerValue(answer.headers.location);
    const location = given === undefined ? undefined : redactUrl(given);
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

const SYSTEM_GUARDED_LOOKUP = guardedLookup();

/**
 * The poster both shells use: signed HTTP(S) POSTs. attemptDelivery turns every network failure
 * into an outcome; anything else it throws is a bug, and still must not lose the event.
 */
export function createHttpWebhookPoster(options: AttemptOptions = {}): WebhookPoster {
  return {
    attempt: (target, event, nowMs) =>
      attemptDelivery(target, event, nowMs, options).catch(
        (error: unknown): AttemptOutcome => ({
          kind: "retry",
          durationMs: 0,
          error: short(`internal error: ${redactUrlsIn(describeError(error))}`),
        }),
      ),
  };
}

export const HTTP_WEBHOOK_POSTER: WebhookPoster = createHttpWebhookPoster();

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
  if (err.code) return short(redactUrlsIn(`${err.code}: ${err.message}`));
  return short(redactUrlsIn(err.message ?? String(error)));
}

function short(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
