import { describe, expect, it } from "vitest";
import type { NewProbe } from "../../../../core/ports/probe-store.ts";
import { correlateInbound } from "../../../../core/roundtrip/correlate.ts";
import { sweepOverdue } from "../../../../core/roundtrip/sweep.ts";
import {
  deadlineMs,
  fixture,
  inbound,
  inboundDomain,
  sentAtMs,
  setup,
} from "../../../support/correlate-fixture.ts";

describe("correlateInbound: bounces", () => {
  const fixtureProbe: NewProbe = {
    probeId: "dsnFixtureProbe-01",
    targetId: "scout.test",
    toAddress: "nobody@scout.test",
    messageId: "<dsnFixtureProbe-01@scout-returns.example.com>",
    sentAtMs,
    deadlineMs,
  };
  const bounceTo = [`bounces+${fixtureProbe.probeId}@${inboundDomain}`];
  const arrival = sentAtMs + 2_500;

  async function bounceSetup() {
    const context = await setup({ record: false, nowMs: arrival });
    await context.store.recordSent(fixtureProbe);
    return context;
  }

  it("records Postfix's 5.1.1 user-unknown DSN as bounced, with its diagnostic", async () => {
    const { store, deps } = await bounceSetup();
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), arrival, bounceTo), deps);
    const probe = await store.get(fixtureProbe.probeId);
    expect(outcome).toEqual({ kind: "bounced", probe });
    expect(probe).toMatchObject({
      state: "bounced",
      bounce: { status: "5.1.1", action: "failed", diagnostic: 'X-Postfix; unknown user: "nobody"' },
    });
    expect(probe?.rttMs).toBeUndefined();
    const again = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), arrival, bounceTo), deps);
    expect(again).toEqual({ kind: "duplicate", probeId: fixtureProbe.probeId, state: "bounced" });
  });

  it("records a bounce that comes after the sweep, and one sent to the return address", async () => {
    const { store, clock, deps } = await bounceSetup();
    clock.nowMs = deadlineMs + 1;
    await sweepOverdue(store, clock);
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), deadlineMs + 2), deps);
    expect(outcome.kind).toBe("bounced");
  });

  it("accepts a bounce days after the probe (MTAs retry for days)", async () => {
    const { deps } = await bounceSetup();
    const fiveDays = sentAtMs + 5 * 24 * 3_600_000;
    const outcome = await correlateInbound(inbound(fixture("postfix-5.1.1.eml"), fiveDays, bounceTo), deps);
    expect(outcome.kind).toBe("bounced");
  });

  it("answers a delayed DSN (4.4.1) with delayed and records nothing", async () => {
    const { store, deps } = await bounceSetup();
    const before = await store.get(fixtureProbe.probeId);
    const mail = inbound(fixture("postfix-4.4.1-delayed.eml"), sentAtMs + 4 * 3_600_000, bounceTo);
    const outcome = await correlateInbound(mail, deps);
    expect(outcome).toEqual({ kind: "delayed", probeId: fixtureProbe.probeId, status: "4.4.1" });
    expect(await store.get(fixtureProbe.probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({});
  });

  const text = () => fixture("postfix-5.1.1.eml").toString("latin1");
  const forged: { name: string; reason: string; detail: RegExp; raw: () => string; rcptTo?: string[] }[] = [
    {
      name: "a forged token (one MAC character changed)",
      reason: "token-bad-signature",
      detail: /signature/,
      raw: () => text().replace("wPLXaC7i2", "wPLXaC8i2"),
    },
    {
      name: "no token in the returned headers",
      reason: "unparseable-bounce",
      detail: /carry no X-Scout-Probe/,
      raw: () => text().replace(/^X-Scout-Probe: .*\n\t.*\n/m, ""),
    },
    {
      name: "no returned headers at all",
      reason: "unparseable-bounce",
      detail: /no original headers/,
      raw: () =>
        text().replace(
          /--4SfRkQ0DxWz9vCx\.1701172802\/mail\.scout\.test\nContent-Description: Undelivered[\s\S]*?(?=--4Sf)/,
          "",
        ),
    },
    {
      name: "a plain message to the bounces+ address",
      reason: "unparseable-bounce",
      detail: /not a delivery status notification/,
      raw: () => "From: someone@example.org\nSubject: hello\n\nnot a DSN\n",
    },
    {
      name: "a DSN about a return rather than the probe",
      reason: "unparseable-bounce",
      detail: /about a return/,
      raw: () =>
        text().replace(
          "Auto-Submitted: auto-generated\n",
          "Auto-Submitted: auto-replied\nX-Scout-Return-Version: 1\n",
        ),
    },
    {
      name: "a success DSN (Action: delivered)",
      reason: "unparseable-bounce",
      detail: /actions: delivered/,
      raw: () =>
        text().replace("Action: failed", "Action: delivered").replace("Status: 5.1.1", "Status: 2.0.0"),
    },
    {
      name: "a valid token of another probe than the bounces+ address names",
      reason: "probe-mismatch",
      detail: /token is for dsnFixtureProbe-01/,
      raw: () => text(),
      rcptTo: [`bounces+someOtherProbe-0001@${inboundDomain}`],
    },
  ];

  it.each(forged)("rejects $name: $reason, no state change", async (c) => {
    const { store, deps } = await bounceSetup();
    const before = await store.get(fixtureProbe.probeId);
    const outcome = await correlateInbound(
      inbound(Buffer.from(c.raw(), "latin1"), arrival, c.rcptTo ?? bounceTo),
      deps,
    );
    expect(outcome).toMatchObject({
      kind: "rejected",
      reason: c.reason,
      detail: expect.stringMatching(c.detail),
    });
    expect(await store.get(fixtureProbe.probeId)).toEqual(before);
    expect(await store.rejectionCounts(0)).toEqual({ [c.reason]: 1 });
  });
});
