import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import type { CorrelationOutcome } from "../../core/roundtrip/correlate.ts";
import { sendProbe } from "../../core/roundtrip/send-probe.ts";
import { trustedAuthservIdsOf } from "../../core/verdicts/trusted-authserv-ids.ts";
import { type ProbeKeyRing, signingKey } from "../../core/wire/probe-key.ts";
import { startInboundListener } from "../adapters/inbound-listener.ts";
import { MemoryStore } from "../adapters/memory-store.ts";
import type { SmtpSender } from "../adapters/smtp-sender.ts";
import { Spool } from "../adapters/spool.ts";
import { correlateSpooled } from "./correlate-spooled.ts";

export interface OneRoundTripOptions {
  readonly to: string;
  readonly returnAddress: string;
  readonly from: string;
  /** The key ring of the probe's target: its first key signs, any of its keys may answer. */
  readonly keys: ProbeKeyRing;
  readonly sender: SmtpSender;
  readonly listen: { host: string; port: number };
  readonly timeoutMs: number;
  readonly targetId: string;
  readonly log: Logger;
}

export interface OneRoundTripResult {
  readonly probe: ProbeRecord;
  /** A return for this probe that failed validation (forged, wrong key...). */
  readonly rejected?: Extract<CorrelationOutcome, { kind: "rejected" }>;
}

/**
 * One probe, start to end, with no monitor running: a short-lived listener and spool, an
 * in-memory store. Ends at the first outcome for the probe, or at the deadline (lost).
 */
export async function oneRoundTrip(options: OneRoundTripOptions): Promise<OneRoundTripResult> {
  const inboundDomain = options.returnAddress.split("@")[1] as string;
  const store = new MemoryStore();
  const spoolDir = await mkdtemp(join(tmpdir(), "email-scout-probe-"));
  const spool = await Spool.open(spoolDir);
  let settle: (result: OneRoundTripResult) => void = () => {};
  const settled = new Promise<OneRoundTripResult>((resolve) => {
    settle = resolve;
  });
  let probeId: string | undefined;
  let rejected: OneRoundTripResult["rejected"];

  const processSpool = async () => {
    for (const id of await spool.pending()) {
      const outcome = await correlateSpooled(spool, id, {
        store,
        keys: new Map([[options.targetId, options.keys]]),
        returnAddress: options.returnAddress,
        inboundDomain,
        maxAgeMs: options.timeoutMs + 60_000,
        clock: systemClock,
        trustedAuthservIds: () => trustedAuthservIdsOf({ endpoints: [], probe: { to: options.to } }),
      });
      await spool.remove(id);
      if (outcome.kind === "rejected") {
        options.log.warn("return rejected", { reason: outcome.reason, detail: outcome.detail });
        if (!outcome.probeId || outcome.probeId === probeId) rejected = outcome;
        continue;
      }
      if (
        (outcome.kind === "returned" || outcome.kind === "late" || outcome.kind === "bounced") &&
        outcome.probe.probeId === probeId
      ) {
        settle({ probe: outcome.probe });
      }
    }
  };
  const listener = await startInboundListener({
    host: options.listen.host,
    port: options.listen.port,
    returnAddress: options.returnAddress,
    inboundDomain,
    spool,
    onSpooled: () => {
      processSpool().catch((error) => options.log.error("cannot process a return", { error: String(error) }));
    },
    log: options.log,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const probe = await sendProbe(
      {
        targetId: options.targetId,
        to: options.to,
        from: options.from,
        inboundDomain,
        deadlineMs: options.timeoutMs,
      },
      { store, sender: options.sender, key: signingKey(options.keys), clock: systemClock, log: options.log },
    );
    probeId = probe.probeId;
    if (probe.state === "send-failed") return { probe };
    const deadline = new Promise<OneRoundTripResult>((resolve) => {
      timer = setTimeout(async () => {
        const lost = await store.transition(probe.probeId, ["sent"], "lost", {}, systemClock.now());
        resolve({
          probe: lost ?? ((await store.get(probe.probeId)) as ProbeRecord),
          ...(rejected ? { rejected } : {}),
        });
      }, options.timeoutMs);
    });
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
    await listener.close();
    await rm(spoolDir, { recursive: true, force: true });
  }
}
