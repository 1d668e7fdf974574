import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeHeaderBlock } from "../../core/wire/header-block.ts";
import { parseMessage } from "../../core/wire/parse-headers.ts";
import type { ProbeKeyRing } from "../../core/wire/probe-key.ts";
import { signReply } from "../../core/wire/reply-signature.ts";
import { decide, envelopeSenderOf } from "../../return/decide.ts";
import { probeIdOf, RETURN_ENVELOPE, returnOf, returnSignedWith } from "../support/shell-mail.ts";
import { localRuntime } from "../support/shell-runtime-local.ts";
import { PROBE_MAILBOX, type SentProbe, type ShellRuntime } from "../support/shell-runtimes.ts";

/*
 * Issue 15, point 2: one probe key signed every target's tokens and every email_return's reply,
 * so the owner of one probe mailbox (who holds the key for its email_return) could make returns
 * that counted for every other target. With a key ring per target, what one target's key makes
 * for another target is a rejection, never a round trip, whichever part it signs.
 */

describe("one target's probe key against another target's probes", () => {
  let shell: ShellRuntime;
  let probe: SentProbe;
  let otherRing: ProbeKeyRing;
  beforeEach(async () => {
    shell = await localRuntime({ ownKeyTarget: true });
    await shell.runCycle();
    probe = shell.sentProbes().find((sent) => sent.envelope.to.includes(PROBE_MAILBOX)) as SentProbe;
    otherRing = shell.ownTargetRing as ProbeKeyRing;
    shell.clock.advance(1_000);
  });
  afterEach(async () => {
    await shell?.close();
  });

  async function expectNoRoundTrip(reason: string): Promise<void> {
    const record = await shell.stores.probes.get(probeIdOf(probe));
    expect(record?.state).toBe("sent");
    expect(record?.rttMs).toBeUndefined();
    expect(await shell.stores.probes.rejectionCounts(0)).toEqual({ [reason]: 1 });
    expect(shell.queuedEvents().filter((e) => e.type === "roundtrip.completed")).toEqual([]);
  }

  it("a token and reply re-signed with the other target's key are rejected as token-wrong-key", async () => {
    await shell.deliverInbound(returnSignedWith(shell, probe, otherRing[0]), RETURN_ENVELOPE);
    await expectNoRoundTrip("token-wrong-key");
  });

  it("the genuine token with a reply signed by the other target's key is rejected as reply-bad-signature", async () => {
    const genuine = returnOf(shell, probe).toString("latin1");
    const signed = /^X-Scout-Reply: (.*)\r$/m.exec(genuine)?.[1] ?? "";
    const [, , probeId = "", arrivedAtMs = ""] = signed.split(".");
    const body = genuine.slice(genuine.indexOf("\r\n\r\n") + 4).replace(/\r\n/g, "\n");
    const headerLines = decodeHeaderBlock(body) ?? [];
    expect(headerLines.length).toBeGreaterThan(0);
    // The same facts, signed as correctly as the other key can sign them.
    const forged = signReply({ probeId, arrivedAtMs: Number(arrivedAtMs), headerLines }, otherRing[0]);
    await shell.deliverInbound(Buffer.from(genuine.replace(signed, forged), "latin1"), RETURN_ENVELOPE);
    await expectNoRoundTrip("reply-bad-signature");
  });

  it("the other target's email_return does not answer this target's probe at all", () => {
    const message = parseMessage(probe.raw);
    const decision = decide({
      fields: message.fields,
      envelopeSender: envelopeSenderOf({ SENDER: probe.envelope.from }, message),
      keys: otherRing,
      nowMs: shell.clock.now(),
      maxAgeMs: 3_600_000,
    });
    expect(decision).toMatchObject({ action: "ignore", reason: "token-unknown-key" });
  });
});
