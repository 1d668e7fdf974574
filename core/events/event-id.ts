import { randomBytes } from "node:crypto";

/** Crockford's base32: no I, L, O or U, so ids survive being read aloud or retyped. */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
/** The random part's length; a caller may give its own bytes (a stable id for one outcome). */
export const EVENT_ID_RANDOM_BYTES = 10;
/** 2^48 ms: the largest time 10 base32 characters hold (the year 10889). */
const MAX_TIME_MS = 2 ** 48 - 1;

export const EVENT_ID_PATTERN = /^evt_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A new event id: "evt_" and 26 Crockford base32 characters laid out like a ULID, 48 bits of
 * milliseconds then 80 random bits. Ids of events made in different milliseconds sort by time
 * as plain strings; within one millisecond their order is random. The id doubles as the
 * webhook-id, so consumers dedupe retries with it.
 */
export function newEventId(nowMs: number, random: Uint8Array = randomBytes(EVENT_ID_RANDOM_BYTES)): string {
  if (!Number.isInteger(nowMs) || nowMs < 0 || nowMs > MAX_TIME_MS) {
    throw new RangeError(`event id time must be whole ms between 0 and ${MAX_TIME_MS}, got ${nowMs}`);
  }
  if (random.length !== EVENT_ID_RANDOM_BYTES) {
    throw new RangeError(`event id randomness must be ${EVENT_ID_RANDOM_BYTES} bytes, got ${random.length}`);
  }
  return `evt_${encodeTime(nowMs)}${encodeRandom(random)}`;
}

/** The millisecond an event id was made in (for logs and tests). */
export function eventIdTimeMs(id: string): number {
  if (!EVENT_ID_PATTERN.test(id)) throw new Error(`not an event id: ${JSON.stringify(id)}`);
  let ms = 0;
  for (const char of id.slice(4, 4 + TIME_CHARS)) ms = ms * 32 + CROCKFORD.indexOf(char);
  return ms;
}

function encodeTime(ms: number): string {
  let text = "";
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    text = CROCKFORD.charAt(rest % 32) + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

/** 80 bits into 16 characters of 5 bits each, most significant first. */
function encodeRandom(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let text = "";
  for (let i = 0; i < 16; i++) {
    text = CROCKFORD.charAt(Number(value & 31n)) + text;
    value >>= 5n;
  }
  return text;
}
