import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newProbeKey } from "../../core/wire/probe-key.ts";
import { createProbeToken, newProbeId, parseProbeToken } from "../../core/wire/probe-token.ts";
import { bounceEnvelope, bounceOf, probeIdOf, tokenOf } from "../support/shell-mail.ts";
import { localRuntimeWithOneProbe } from "../support/shell-runtime-local.ts";
import type { SentProbe, ShellRuntime } from "../support/shell-runtimes.ts";

/*
 * Issue 15, point 3: a DSN cannot be signed by the remote MTA, so bounce trust rests on two
 * things: the probe id in bounces+<probeId>@ is random and unguessable, and a DSN counts only
 * when the headers it returns carry that probe's valid token. Through the local shell (SMTP
 * listener, spool, the core intake, SQLite).
 */

/** bounceOf(probe), its returned token and its probe id swapped for others. */
function bounceWith(probe: SentProbe, token: string): Buffer {
  const probeId = parseProbeToken(token).probeId;
  return Buffer.from(
    bounceOf(probe).toString("latin1").replace(tokenOf(probe), token).replaceAll(probeIdOf(probe), probeId),
    "latin1",
  );
}

describe("forged bounces (issue 15, point 3)", () => {
  let shell: ShellRuntime;
  let probe: SentProbe;
  let probeId: string;
  beforeEach(async () => {
    ({ shell, probe, probeId } = await localRuntimeWithOneProbe(2_000));
  });
  afterEach(async () => {
    await shell?.close();
  });

  async function expectUntouched(reason: string): Promise<void> {
    expect((await shell.stores.probes.get(probeId))?.state).toBe("sent");
    expect(await shell.stores.probes.rejectionCounts(0)).toEqual({ [reason]: 1 });
    expect(shell.queuedEvents().filter((e) => e.type === "roundtrip.completed")).toEqual([]);
  }

  it("sends every probe from a bounces+ address naming a fresh 16-character id of 12 random bytes", () => {
    expect(probe.envelope.from).toMatch(new RegExp(`^bounces\\+${probeId}@`));
    expect(probeId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const ids = new Set(Array.from({ length: 10_000 }, newProbeId));
    expect(ids.size).toBe(10_000);
  });

  it("rejects a DSN for an unknown probe id, even with a token signed by the probe key", async () => {
    const unknownId = newProbeId();
    const { targetId, sentAtMs } = parseProbeToken(tokenOf(probe));
    const token = createProbeToken({ probeId: unknownId, targetId, sentAtMs }, shell.probeKey);
    const bounce = bounceWith(probe, token);
    await shell.deliverInbound(bounce, { from: "", to: [probe.envelope.from.replace(probeId, unknownId)] });
    await expectUntouched("unknown-probe");
  });

  it("rejects a DSN for an unknown probe id whose token was made without the key", async () => {
    const unknownId = newProbeId();
    const { targetId, sentAtMs } = parseProbeToken(tokenOf(probe));
    const token = createProbeToken(
      { probeId: unknownId, targetId, sentAtMs },
      { ...shell.probeKey, key: newProbeKey() },
    );
    await shell.deliverInbound(bounceWith(probe, token), {
      from: "",
      to: [probe.envelope.from.replace(probeId, unknownId)],
    });
    await expectUntouched("token-bad-signature");
  });

  it("rejects a DSN sent to one probe's bounce address carrying another probe's token", async () => {
    const { targetId, sentAtMs } = parseProbeToken(tokenOf(probe));
    const other = createProbeToken({ probeId: newProbeId(), targetId, sentAtMs }, shell.probeKey);
    const text = bounceOf(probe).toString("latin1").replace(tokenOf(probe), other);
    await shell.deliverInbound(Buffer.from(text, "latin1"), bounceEnvelope(probe));
    await expectUntouched("probe-mismatch");
  });

  it("rejects a DSN that returns no token, though sent to the probe's own bounce address", async () => {
    const text = bounceOf(probe)
      .toString("latin1")
      .replace(/^X-Scout-Probe: .*\r\n/m, "");
    await shell.deliverInbound(Buffer.from(text, "latin1"), bounceEnvelope(probe));
    await expectUntouched("unparseable-bounce");
  });

  it("lets a DSN with a copied token mark that one probe bounced, never a round trip", async () => {
    // What the README says a forger who saw the probe can do: no RTT, one probe, once.
    await shell.deliverInbound(bounceOf(probe), bounceEnvelope(probe));
    const record = await shell.stores.probes.get(probeId);
    expect(record?.state).toBe("bounced");
    expect(record?.rttMs).toBeUndefined();
    expect(record?.returnedAtMs).toBeUndefined();
  });
});
