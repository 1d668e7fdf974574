import { describe, expect, it } from "vitest";
import type { ProbeStore } from "../../../../core/ports/probe-store.ts";
import { correlateInbound } from "../../../../core/roundtrip/correlate.ts";
import { createProbeToken } from "../../../../core/wire/probe-token.ts";
import type { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import {
  fixture,
  inbound,
  legacyKey,
  makeReturn,
  probeId,
  sentAtMs,
  setup,
} from "../../../support/correlate-fixture.ts";

describe("correlateInbound: hostile input never throws", () => {
  /** Deterministic bytes (xorshift32), so a failure can be replayed. */
  function noise(length: number, seed: number): Buffer {
    const bytes = Buffer.alloc(length);
    let x = seed;
    for (let i = 0; i < length; i += 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    return bytes;
  }

  const inputs: { name: string; raw: () => Buffer; reason: string }[] = [
    { name: "0 bytes", raw: () => Buffer.alloc(0), reason: "malformed-mail" },
    { name: "random binary", raw: () => noise(64 * 1024, 0x9e3779b9), reason: "malformed-mail" },
    { name: "random binary, short", raw: () => noise(37, 42), reason: "malformed-mail" },
    {
      name: "a 2 MB header line",
      raw: () => Buffer.from(`X-Scout-Probe: ${"A".repeat(2 * 1024 * 1024)}\r\n\r\nbody\r\n`),
      reason: "malformed-mail",
    },
    {
      name: "a broken multipart/report",
      raw: () =>
        Buffer.from(
          'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\x00\xff\r\n',
          "latin1",
        ),
      reason: "unparseable-bounce",
    },
    {
      name: "more than 10 MB",
      raw: () => Buffer.alloc(10_240_001, "a"),
      reason: "malformed-mail",
    },
  ];

  it.each(inputs)("$name -> $reason", async ({ raw, reason }) => {
    const { store, deps } = await setup();
    const outcome = await correlateInbound(inbound(raw(), sentAtMs + 3_250), deps);
    expect(outcome).toMatchObject({ kind: "rejected", reason });
    expect((await store.get(probeId))?.state).toBe("sent");
  });
});

describe("correlateInbound: failures that must reach the caller", () => {
  it("throws when the store fails, so the caller keeps the message and retries", async () => {
    const { store, deps } = await setup();
    const failing: ProbeStore = Object.assign(Object.create(store) as MemoryStore, {
      transition: async () => {
        throw new Error("store unavailable");
      },
    });
    await expect(
      correlateInbound(inbound(await makeReturn(), sentAtMs + 3_250), { ...deps, store: failing }),
    ).rejects.toThrow("store unavailable");
    expect((await store.get(probeId))?.state).toBe("sent");
  });
});

it("the DSN fixtures carry a real token for their probe", () => {
  const token = createProbeToken(
    { probeId: "dsnFixtureProbe-01", targetId: "scout.test", sentAtMs },
    legacyKey,
  );
  for (const name of ["postfix-5.1.1.eml", "postfix-4.4.1-delayed.eml"]) {
    const unfolded = fixture(name).toString("latin1").replace(/\n\t/g, "");
    expect(unfolded).toContain(`X-Scout-Probe: ${token}`);
  }
});
