import { describe, expect, it } from "vitest";
import { EVENT_ID_PATTERN, eventIdTimeMs, newEventId } from "../../../../core/events/event-id.ts";

describe("newEventId", () => {
  it("is evt_ and 26 Crockford base32 characters", () => {
    const id = newEventId(Date.parse("2026-06-01T08:00:00Z"));
    expect(id).toMatch(EVENT_ID_PATTERN);
    expect(id).toHaveLength(30);
  });

  it("encodes the time in the first ten characters, as a ULID does", () => {
    // The ULID specification's example time, 1469918176385 ms, encodes as 01ARYZ6S41.
    expect(newEventId(1_469_918_176_385, new Uint8Array(10)).slice(4, 14)).toBe("01ARYZ6S41");
    expect(eventIdTimeMs(newEventId(1_469_918_176_385))).toBe(1_469_918_176_385);
  });

  it("encodes all 80 random bits", () => {
    expect(newEventId(0, new Uint8Array(10)).slice(14)).toBe("0000000000000000");
    expect(newEventId(0, new Uint8Array(10).fill(0xff)).slice(14)).toBe("ZZZZZZZZZZZZZZZZ");
    expect(newEventId(0, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 33)).slice(14)).toBe("0000000000000011");
  });

  it("sorts by time as a plain string", () => {
    const times = [0, 1, 31, 32, 1_000, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const ids = times.map((t) => newEventId(t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it("differs between events of the same millisecond", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newEventId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it("refuses times and randomness it cannot encode", () => {
    expect(() => newEventId(-1)).toThrow(/whole ms/);
    expect(() => newEventId(1.5)).toThrow(/whole ms/);
    expect(() => newEventId(2 ** 48)).toThrow(/whole ms/);
    expect(() => newEventId(0, new Uint8Array(9))).toThrow(/10 bytes/);
    expect(() => eventIdTimeMs("evt_0123")).toThrow(/not an event id/);
  });
});
