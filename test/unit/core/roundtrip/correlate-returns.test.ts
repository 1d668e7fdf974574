import { describe, expect, it } from "vitest";
import { correlateInbound } from "../../../../core/roundtrip/correlate.ts";
import { buildProbe } from "../../../../core/roundtrip/probe-message.ts";
import { sweepOverdue } from "../../../../core/roundtrip/sweep.ts";
import {
  deadlineMs,
  inbound,
  inboundDomain,
  key,
  legacyKey,
  makeReturn,
  maxAgeMs,
  ownTargetKey,
  probeId,
  returnAddress,
  SHARED_KEY_TARGET,
  sentAtMs,
  setup,
  targetId,
} from "../../../support/correlate-fixture.ts";

describe("correlateInbound: returns", () => {
  it("records a return with the RTT on the monitor's clock, the remote offset and the hops", async () => {
    const { store, deps, logs } = await setup();
    // The remote clock runs 40 s ahead: it saw the probe arrive at 12:00:41.625 by its clock.
    const outcome = await correlateInbound(inbound(await makeReturn(), sentAtMs + 3_250), deps);
    expect(outcome.kind).toBe("returned");
    const probe = await store.get(probeId);
    expect(outcome).toEqual({ kind: "returned", probe });
    expect(probe).toMatchObject({
      state: "returned",
      returnedAtMs: sentAtMs + 3_250,
      rttMs: 3_250,
      remoteArrivedAtMs: sentAtMs + 41_625,
      // remote arrival - (sent + rtt / 2) = 41 625 - 1 625
      remoteClockOffsetMs: 40_000,
      updatedAtMs: sentAtMs + 3_250,
    });
    expect(probe?.hops).toEqual([
      {
        from: "localhost",
        by: "relay.scout-returns.example.com",
        with: "ESMTP",
        atMs: Date.UTC(2023, 10, 28, 12, 0, 0),
      },
      {
        from: "relay.scout-returns.example.com",
        by: "mx1.scout.test",
        with: "ESMTPS",
        atMs: Date.UTC(2023, 10, 28, 12, 0, 41),
      },
    ]);
    expect(logs).toEqual([{ event: "probe-returned", probeId, rttMs: 3_250, source: "test" }]);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  it("records a return of an install from before key ids: a version 1 token and a version 2 reply, both made with the legacy key", async () => {
    const { store, deps } = await setup();
    const legacyDeps = { ...deps, keys: new Map([[targetId, [legacyKey] as const]]) };
    const raw = await makeReturn({ signKey: legacyKey });
    expect(raw.toString("latin1")).toMatch(/^X-Scout-Probe: v1\./m);
    expect(raw.toString("latin1")).toMatch(/^X-Scout-Reply: v2\.retProbe/m);
    const outcome = await correlateInbound(inbound(raw, sentAtMs + 3_250), legacyDeps);
    expect(outcome.kind).toBe("returned");
    expect(await store.get(probeId)).toMatchObject({ state: "returned", rttMs: 3_250 });
  });

  it("rounds the remote clock offset", async () => {
    const { store, deps } = await setup();
    const raw = await makeReturn({ remoteArrivedAtMs: sentAtMs + 100 });
    await correlateInbound(inbound(raw, sentAtMs + 3_251), deps);
    // 100 - 3251 / 2 = -1525.5
    expect((await store.get(probeId))?.remoteClockOffsetMs).toBe(-1_525);
  });

  it("answers a second delivery of the same return with duplicate and changes nothing", async () => {
    const { store, clock, deps } = await setup();
    const raw = await makeReturn();
    await correlateInbound(inbound(raw, sentAtMs + 3_250), deps);
    const before = await store.get(probeId);
    clock.nowMs += 60_000;
    const again = await correlateInbound(inbound(raw, sentAtMs + 63_250), deps);
    expect(again).toEqual({ kind: "duplicate", probeId, state: "returned" });
    expect(await store.get(probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  it("records a return after the sweep as late, with the same fields", async () => {
    const { store, clock, deps } = await setup({ nowMs: deadlineMs + 1 });
    expect((await sweepOverdue(store, clock)).map((p) => p.probeId)).toEqual([probeId]);
    const receivedAtMs = deadlineMs + 5_000;
    clock.nowMs = receivedAtMs;
    const outcome = await correlateInbound(inbound(await makeReturn(), receivedAtMs), deps);
    expect(outcome.kind).toBe("late");
    expect(await store.get(probeId)).toMatchObject({
      state: "late",
      rttMs: receivedAtMs - sentAtMs,
      returnedAtMs: receivedAtMs,
    });
    const again = await correlateInbound(inbound(await makeReturn(), receivedAtMs + 1), deps);
    expect(again).toEqual({ kind: "duplicate", probeId, state: "late" });
  });

  it("accepts the return address in any case", async () => {
    const { deps } = await setup();
    const mail = inbound(await makeReturn(), sentAtMs + 3_250, [`<Returns@${inboundDomain.toUpperCase()}>`]);
    expect((await correlateInbound(mail, deps)).kind).toBe("returned");
  });
});

describe("correlateInbound: rejected returns are counted and change nothing", () => {
  const cases: {
    name: string;
    reason: string;
    make: () => Promise<Buffer>;
    receivedAtMs?: number;
    rcptTo?: string[];
    record?: boolean;
    probeId?: string;
  }[] = [
    {
      name: "a token signed with another key",
      reason: "token-bad-signature",
      make: () => makeReturn({ signKey: { ...key, key: Buffer.alloc(32, 1) } }),
      probeId,
    },
    {
      name: "a token older than maxAgeMs at arrival",
      reason: "token-expired",
      make: () => makeReturn(),
      receivedAtMs: sentAtMs + maxAgeMs + 1,
      probeId,
    },
    {
      name: "a token from more than 10 minutes in the future",
      reason: "token-from-future",
      make: () => makeReturn(),
      receivedAtMs: sentAtMs - 600_001,
      probeId,
    },
    {
      name: "no X-Scout-Probe header",
      reason: "no-token",
      make: () => makeReturn({ edit: (t) => t.replace(/^X-Scout-Probe: .*\n/m, "") }),
    },
    {
      name: "no Auto-Submitted header",
      reason: "not-a-return",
      make: () => makeReturn({ edit: (t) => t.replace(/^Auto-Submitted: auto-replied\n/m, "") }),
      probeId,
    },
    {
      name: "the probe itself (auto-generated), looped back",
      reason: "not-a-return",
      make: async () =>
        (
          await buildProbe({
            probeId,
            targetId,
            to: returnAddress,
            from: `probe@${inboundDomain}`,
            inboundDomain,
            sentAtMs,
            key,
          })
        ).raw,
      probeId,
    },
    {
      name: "a stranger's address in the inbound domain",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`postmaster@${inboundDomain}`],
    },
    {
      name: "the return address at another domain",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: ["returns@example.org"],
    },
    {
      name: "one good and one foreign recipient",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [returnAddress, "victim@example.org"],
    },
    { name: "no recipient at all", reason: "wrong-recipient", make: () => makeReturn(), rcptTo: [] },
    {
      name: "a bounces+ address with a malformed probe id",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`bounces+short@${inboundDomain}`],
    },
    {
      name: "bounces+ addresses of two different probes",
      reason: "wrong-recipient",
      make: () => makeReturn(),
      rcptTo: [`bounces+${probeId}@${inboundDomain}`, `bounces+otherProbe-0000001@${inboundDomain}`],
    },
    {
      name: "a probe the store never saw",
      reason: "unknown-probe",
      make: () => makeReturn(),
      record: false,
      probeId,
    },
    {
      name: "a valid token for the same probe id but another target",
      reason: "probe-mismatch",
      make: () => makeReturn({ tokenTargetId: SHARED_KEY_TARGET }),
      probeId,
    },
    {
      name: "a return signed with another target's key (its email_return's)",
      reason: "token-wrong-key",
      make: () => makeReturn({ signKey: ownTargetKey }),
      probeId,
    },
    {
      name: "a token for a target without a ring of its own, signed with a key of a configured target",
      reason: "token-wrong-key",
      make: () => makeReturn({ tokenTargetId: "ghost.scout.test" }),
      probeId,
    },
    {
      name: "a return signed with a key no ring holds (retired, or never ours)",
      reason: "token-unknown-key",
      make: () => makeReturn({ signKey: { id: "retired", key: key.key } }),
      probeId,
    },
    {
      name: "a version 1 token for a target whose ring has no legacy key (another target's has)",
      reason: "token-wrong-key",
      make: () => makeReturn({ signKey: legacyKey }),
      probeId,
    },
  ];

  it.each(cases)("$name -> $reason", async (c) => {
    const { store, deps, logs } = await setup(c.record === false ? { record: false } : {});
    const before = await store.get(probeId);
    const mail = inbound(await c.make(), c.receivedAtMs ?? sentAtMs + 3_250, c.rcptTo ?? [returnAddress]);
    const outcome = await correlateInbound(mail, deps);
    expect(outcome).toMatchObject({ kind: "rejected", reason: c.reason });
    expect(outcome.kind === "rejected" ? outcome.probeId : "not rejected").toBe(c.probeId);
    expect(await store.get(probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({ [c.reason]: 1 });
    expect(logs).toEqual([
      expect.objectContaining({ event: "inbound-rejected", reason: c.reason, source: "test" }),
    ]);
  });
});
