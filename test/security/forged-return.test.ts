import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newProbeKey } from "../../core/wire/probe-key.ts";
import { signReply } from "../../core/wire/reply-signature.ts";
import { probeIdOf, RETURN_ENVELOPE, returnOf, tokenOf } from "../support/shell-mail.ts";
import { localRuntimeWithOneProbe } from "../support/shell-runtime-local.ts";
import { RETURN_ADDRESS, type SentProbe, type ShellRuntime } from "../support/shell-runtimes.ts";

/*
 * Issue 15, point 1: anyone who sees a probe in transit has its token. A "return" carrying that
 * copied token, Auto-Submitted: auto-replied, a made-up X-Scout-Arrived and made-up Received
 * hops, sent without the key, used to become a measured round trip (rttMs 1098, remote clock
 * offset -1,796,183,937,693 ms, hop "totally.fake.hop"). Here it goes through the local shell
 * (SMTP listener, spool, the core intake, SQLite) and must be a rejection, never an RTT.
 */

/** The forger's return: the probe's own token, everything else made up. */
function forgedReturn(probe: SentProbe, extraHeaders: string[] = []): Buffer {
  const lines = [
    "From: probe@mx1.example.com",
    `To: <${RETURN_ADDRESS}>`,
    `Subject: Re: Email Scout probe ${probeIdOf(probe)}`,
    "Date: Tue, 28 Nov 2023 12:00:05 +0000",
    "Message-ID: <forged.1@attacker.example>",
    "Auto-Submitted: auto-replied",
    `X-Scout-Probe: ${tokenOf(probe)}`,
    "X-Scout-Arrived: 1",
    "X-Scout-Return-Version: 1",
    ...extraHeaders,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "----- probe header block -----",
    "Received: from totally.fake.hop by mx1.example.com with ESMTPS; Tue, 28 Nov 2023 12:00:01 +0000",
    `X-Scout-Probe: ${tokenOf(probe)}`,
    "----- end -----",
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "latin1");
}

describe("a forged return carrying a copied probe token (issue 15, point 1)", () => {
  let shell: ShellRuntime;
  let probe: SentProbe;
  let probeId: string;
  beforeEach(async () => {
    ({ shell, probe, probeId } = await localRuntimeWithOneProbe(1_098));
  });
  afterEach(async () => {
    await shell?.close();
  });

  async function expectNoRoundTrip(reason: string): Promise<void> {
    const record = await shell.stores.probes.get(probeId);
    expect(record?.state).toBe("sent");
    expect(record?.rttMs).toBeUndefined();
    expect(record?.hops).toBeUndefined();
    expect(await shell.stores.probes.rejectionCounts(0)).toEqual({ [reason]: 1 });
    expect(shell.queuedEvents().filter((e) => e.type === "roundtrip.completed")).toEqual([]);
  }

  it("without a reply signature is rejected as reply-missing-signature", async () => {
    await shell.deliverInbound(forgedReturn(probe), RETURN_ENVELOPE);
    await expectNoRoundTrip("reply-missing-signature");
  });

  it("with a reply signature made with a key of the forger's own is rejected as reply-bad-signature", async () => {
    const headerLines = [
      "Received: from totally.fake.hop by mx1.example.com with ESMTPS; Tue, 28 Nov 2023 12:00:01 +0000",
      `X-Scout-Probe: ${tokenOf(probe)}`,
    ];
    const signature = signReply(
      { probeId, arrivedAtMs: 1, headerLines },
      { ...shell.probeKey, key: newProbeKey() },
    );
    await shell.deliverInbound(forgedReturn(probe, [`X-Scout-Reply: ${signature}`]), RETURN_ENVELOPE);
    await expectNoRoundTrip("reply-bad-signature");
  });

  it("with a genuine reply signature lifted onto made-up hops is rejected as reply-bad-signature", async () => {
    const genuine = returnOf(shell, probe).toString("latin1");
    const lifted = /^X-Scout-Reply: .*$/m.exec(genuine)?.[0];
    expect(lifted).toBeDefined();
    await shell.deliverInbound(forgedReturn(probe, [lifted ?? ""]), RETURN_ENVELOPE);
    await expectNoRoundTrip("reply-bad-signature");
  });

  it("leaves the probe to its genuine return, which is measured", async () => {
    await shell.deliverInbound(forgedReturn(probe), RETURN_ENVELOPE);
    shell.clock.advance(400);
    await shell.deliverInbound(returnOf(shell, probe), RETURN_ENVELOPE);
    const record = await shell.stores.probes.get(probeId);
    expect(record).toMatchObject({ state: "returned", rttMs: 1_498 });
    expect(record?.hops?.some((hop) => hop.from === "totally.fake.hop")).toBe(false);
  });
});
