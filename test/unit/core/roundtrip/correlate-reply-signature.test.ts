import { describe, expect, it } from "vitest";
import { correlateInbound, REMOTE_CLOCK_TOLERANCE_MS } from "../../../../core/roundtrip/correlate.ts";
import { decodeHeaderBlock } from "../../../../core/wire/header-block.ts";
import { signReply } from "../../../../core/wire/reply-signature.ts";
import { inbound, key, makeReturn, probeId, sentAtMs, setup } from "../../../support/correlate-fixture.ts";

const receivedAtMs = sentAtMs + 3_250;

/**
 * The return signed anew for another remote arrival time: what an email_return whose clock is
 * that far off would send (the real one refuses probes more than 10 minutes in its future).
 */
function arrivedAt(arrivedAtMs: number) {
  return (text: string) => {
    const headerLines = decodeHeaderBlock(text) ?? [];
    const signature = signReply({ probeId, arrivedAtMs, headerLines }, key);
    return text.replace(/^X-Scout-Reply: .*$/m, `X-Scout-Reply: ${signature}`);
  };
}

describe("correlateInbound: the reply signature", () => {
  it.each([
    [
      "no X-Scout-Reply (a version 1 email_return, or a copied token)",
      (t: string) => t.replace(/^X-Scout-Reply: .*\n/m, ""),
      "reply-missing-signature",
    ],
    [
      "a signed arrival time changed",
      (t: string) => t.replace(/^(X-Scout-Reply: v3\.k1\.[^.]+\.)\d+/m, "$11700000000000"),
      "reply-bad-signature",
    ],
    [
      "a Received hop added to the reported header block",
      (t: string) =>
        t.replace(
          "----- probe header block -----\n",
          "----- probe header block -----\nReceived: from totally.fake.hop by mx1.scout.test; Tue, 28 Nov 2023 12:00:02 +0000\n",
        ),
      "reply-bad-signature",
    ],
    [
      "the header block left out",
      (t: string) => t.replace(/----- probe header block -----[\s\S]*----- end -----\n/, ""),
      "reply-bad-signature",
    ],
    [
      "an X-Scout-Reply of another version",
      (t: string) => t.replace(/^X-Scout-Reply: v3\./m, "X-Scout-Reply: v4."),
      "reply-bad-signature",
    ],
  ])("rejects a return with %s, and records no RTT", async (_name, edit, reason) => {
    const { store, deps } = await setup();
    const outcome = await correlateInbound(inbound(await makeReturn({ edit }), receivedAtMs), deps);
    expect(outcome).toMatchObject({ kind: "rejected", reason, probeId });
    expect(await store.get(probeId)).toMatchObject({ state: "sent" });
    expect((await store.get(probeId))?.rttMs).toBeUndefined();
    expect(await store.rejectionCounts(0)).toEqual({ [reason]: 1 });
  });

  it("takes the remote arrival from the signature, not from X-Scout-Arrived", async () => {
    const { store, deps } = await setup();
    const edit = (t: string) => t.replace(/^X-Scout-Arrived: \d+/m, "X-Scout-Arrived: 1");
    await correlateInbound(inbound(await makeReturn({ edit }), receivedAtMs), deps);
    expect(await store.get(probeId)).toMatchObject({
      state: "returned",
      remoteArrivedAtMs: sentAtMs + 41_625,
    });
  });
});

describe("correlateInbound: the remote clock is bounded", () => {
  it.each([
    ["before the send", sentAtMs - REMOTE_CLOCK_TOLERANCE_MS - 1],
    ["after the receipt", receivedAtMs + REMOTE_CLOCK_TOLERANCE_MS + 1],
    ["years off", sentAtMs - 1_796_183_937_693],
  ])(
    "keeps the RTT and flags a remote arrival %s as skewed, with no offset",
    async (_name, remoteArrivedAtMs) => {
      const { store, deps, logs } = await setup();
      const outcome = await correlateInbound(
        inbound(await makeReturn({ edit: arrivedAt(Math.max(0, remoteArrivedAtMs)) }), receivedAtMs),
        deps,
      );
      expect(outcome.kind).toBe("returned");
      const probe = await store.get(probeId);
      expect(probe).toMatchObject({ state: "returned", rttMs: 3_250, remoteClockSkewed: true });
      expect(probe?.remoteClockOffsetMs).toBeUndefined();
      expect(logs.map((l) => l.event)).toEqual(["remote-clock-skewed", "probe-returned"]);
    },
  );

  it("trusts a remote clock within the tolerance", async () => {
    const { store, deps } = await setup();
    const raw = await makeReturn({ remoteArrivedAtMs: sentAtMs - REMOTE_CLOCK_TOLERANCE_MS });
    await correlateInbound(inbound(raw, receivedAtMs), deps);
    const probe = await store.get(probeId);
    expect(probe?.remoteClockSkewed).toBeUndefined();
    expect(probe?.remoteClockOffsetMs).toBe(-REMOTE_CLOCK_TOLERANCE_MS - 1_625);
  });
});
