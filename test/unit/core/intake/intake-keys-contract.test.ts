import { afterEach, describe, expect, it } from "vitest";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { newProbeKey, type ProbeKeyRing } from "../../../../core/wire/probe-key.ts";
import { parseProbeToken } from "../../../../core/wire/probe-token.ts";
import { addSigningKey, retireKey } from "../../../../local/cli/key-ring-edits.ts";
import {
  probeIdOf,
  RETURN_ENVELOPE,
  returnOf,
  returnSignedWith,
  tokenOf,
} from "../../../support/shell-mail.ts";
import { awsRuntime } from "../../../support/shell-runtime-aws.ts";
import { localRuntime } from "../../../support/shell-runtime-local.ts";
import {
  OWN_KEY_MAILBOX,
  PROBE_MAILBOX,
  type SentProbe,
  type ShellOptions,
  type ShellRuntime,
} from "../../../support/shell-runtimes.ts";

/*
 * Probe keys per target, one contract for both shells: new probes of a target are signed with
 * the first key of its own ring; a return counts only when its token names a key of the ring
 * of the target it names (token-wrong-key, token-unknown-key otherwise); and a rotation (a key
 * added in front, the old one retired later) loses no probe in flight.
 */

const TRANSIT_MS = 1_500;

describe.each([
  { name: "local", start: localRuntime },
  { name: "aws", start: awsRuntime },
])("probe keys on $name", ({ start }) => {
  let shell: ShellRuntime | undefined;
  afterEach(async () => {
    await shell?.close();
    shell = undefined;
  });

  async function started(options: ShellOptions = {}): Promise<ShellRuntime> {
    shell = await start(options);
    return shell;
  }

  /** Runs a cycle; the probe it sent to `mailbox`. */
  async function probeTo(running: ShellRuntime, mailbox = PROBE_MAILBOX): Promise<SentProbe> {
    const before = running.sentProbes().length;
    await running.runCycle();
    const probe = running
      .sentProbes()
      .slice(before)
      .find((sent) => sent.envelope.to.includes(mailbox));
    if (probe === undefined) throw new Error(`the cycle sent no probe to ${mailbox}`);
    return probe;
  }

  async function stateOf(running: ShellRuntime, probe: SentProbe): Promise<ProbeRecord | undefined> {
    return running.stores.probes.get(probeIdOf(probe));
  }

  it("signs each target's probes with its own ring's first key, and takes a return made with it", async () => {
    const running = await started({ ownKeyTarget: true });
    const own = running.ownTargetRing as ProbeKeyRing;
    const before = running.sentProbes().length;
    await running.runCycle();
    const sent = running.sentProbes().slice(before);
    const keyIds = Object.fromEntries(
      sent.map((probe) => [probe.envelope.to[0], parseProbeToken(tokenOf(probe)).keyId]),
    );
    expect(keyIds).toEqual({ [PROBE_MAILBOX]: running.probeKey.id, [OWN_KEY_MAILBOX]: own[0].id });

    const probe = sent.find((p) => p.envelope.to.includes(OWN_KEY_MAILBOX)) as SentProbe;
    running.clock.advance(TRANSIT_MS);
    await running.deliverInbound(returnOf(running, probe, own), RETURN_ENVELOPE);
    expect(await stateOf(running, probe)).toMatchObject({ state: "returned", rttMs: TRANSIT_MS });
  });

  it("rejects a return signed with another target's key as token-wrong-key, and one with a key no ring holds as token-unknown-key", async () => {
    const running = await started({ ownKeyTarget: true });
    const probe = await probeTo(running);
    const before = await stateOf(running, probe);
    running.clock.advance(TRANSIT_MS);
    // What the owner of OWN_KEY_TARGET's mailbox (its email_return's key) could make for PROBED_TARGET.
    const [ownKey] = running.ownTargetRing as ProbeKeyRing;
    await running.deliverInbound(returnSignedWith(running, probe, ownKey), RETURN_ENVELOPE);
    await running.deliverInbound(
      returnSignedWith(running, probe, { id: "nobodys", key: newProbeKey() }),
      RETURN_ENVELOPE,
    );
    expect(await stateOf(running, probe)).toEqual(before);
    expect(await running.stores.probes.rejectionCounts(0)).toEqual({
      "token-wrong-key": 1,
      "token-unknown-key": 1,
    });
  });

  it("rotates without losing a probe in flight: the old key answers until retired, new probes use the new key", async () => {
    const running = await started();
    const old = running.probeKey;
    const inFlight = await probeTo(running);
    expect(parseProbeToken(tokenOf(inFlight)).keyId).toBe(old.id);

    const fresh = { id: "k2", key: newProbeKey() };
    await running.rotateProbeKeys((ring) => addSigningKey(ring, fresh));
    // email_return holds the new ring too, and answers with the key the token names.
    await running.deliverInbound(returnOf(running, inFlight), RETURN_ENVELOPE);
    expect(await stateOf(running, inFlight)).toMatchObject({ state: "returned" });

    const next = await probeTo(running);
    expect(parseProbeToken(tokenOf(next)).keyId).toBe("k2");
    running.clock.advance(TRANSIT_MS);
    await running.deliverInbound(returnOf(running, next), RETURN_ENVELOPE);
    expect(await stateOf(running, next)).toMatchObject({ state: "returned", rttMs: TRANSIT_MS });

    // Retired: a return made with the old key no longer counts.
    const later = await probeTo(running);
    await running.rotateProbeKeys((ring) => retireKey(ring, old.id).ring);
    expect(running.probeKeyRing().map((key) => key.id)).toEqual(["k2"]);
    await running.deliverInbound(returnSignedWith(running, later, old), RETURN_ENVELOPE);
    expect(await stateOf(running, later)).toMatchObject({ state: "sent" });
    expect(await running.stores.probes.rejectionCounts(0)).toEqual({ "token-unknown-key": 1 });
  });
});
