import { systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { MailSender } from "../../core/ports/mail-sender.ts";
import type { MailboxSession } from "../../core/ports/mailbox.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { awaitProbe, type FetchFinding } from "../../core/roundtrip/fetch-probes.ts";
import { sendProbe } from "../../core/roundtrip/send-probe.ts";
import { trustedAuthservIdsOf } from "../../core/verdicts/trusted-authserv-ids.ts";
import { type ProbeKeyRing, signingKey } from "../../core/wire/probe-key.ts";
import { MemoryStore } from "../adapters/memory-store.ts";

export interface OneFetchRoundTripOptions {
  readonly to: string;
  readonly from: string;
  /** The envelope sender's domain (bounces+<id>@ it): bounces go there, this command does not see them. */
  readonly inboundDomain: string;
  /** The key ring of the probe's target: its first key signs. */
  readonly keys: ProbeKeyRing;
  readonly sender: MailSender;
  /** Opens the probe mailbox (logged in, INBOX selected, IDLE ready where the server has it). */
  readonly openMailbox: () => Promise<MailboxSession>;
  readonly timeoutMs: number;
  /** How often to look again without IDLE (POP3) and in the junk folder. */
  readonly pollMs: number;
  readonly deleteAfterFetch: boolean;
  readonly targetId: string;
  readonly log: Logger;
}

export interface OneFetchRoundTripResult {
  readonly probe: ProbeRecord;
  /** Our probe was in the mailbox but not taken (too old, not a probe...): why, and where. */
  readonly leftAlone?: { readonly reason: string; readonly message: string };
}

/**
 * One probe in fetch mode, start to end, with no monitor running: the mailbox is opened first
 * (so the login is not in the round trip, and IDLE is listening before the probe leaves), the
 * probe is sent, and the mailbox is watched until it is found or the timeout passes (lost).
 * An in-memory store, as the listener's round trip uses. A mailbox that cannot be opened is an
 * error before anything is sent: a probe nobody looks for would be a false "lost".
 */
export async function oneFetchRoundTrip(options: OneFetchRoundTripOptions): Promise<OneFetchRoundTripResult> {
  const store = new MemoryStore();
  const session = await options.openMailbox();
  try {
    const probe = await sendProbe(
      {
        targetId: options.targetId,
        to: options.to,
        from: options.from,
        inboundDomain: options.inboundDomain,
        deadlineMs: options.timeoutMs,
      },
      { store, sender: options.sender, key: signingKey(options.keys), clock: systemClock, log: options.log },
    );
    if (probe.state === "send-failed") return { probe };
    const findings = await awaitProbe(
      session,
      probe.probeId,
      { untilMs: probe.deadlineMs, pollMs: options.pollMs },
      {
        targetId: options.targetId,
        store,
        rings: new Map([[options.targetId, options.keys]]),
        clock: systemClock,
        log: options.log,
        maxAgeMs: options.timeoutMs + 60_000,
        deleteAfterFetch: options.deleteAfterFetch,
        trustedAuthservIds: trustedAuthservIdsOf({ endpoints: [], probe: { to: options.to } }),
      },
    );
    logLeftAlone(findings, options);
    const found = findings.find((f) => "probe" in f && f.probe.probeId === probe.probeId);
    if (found !== undefined && "probe" in found) return { probe: found.probe };
    const lost = await store.transition(probe.probeId, ["sent"], "lost", {}, systemClock.now());
    const current = lost ?? ((await store.get(probe.probeId)) as ProbeRecord);
    const ours = findings.find((f) => f.kind === "ignored" && f.probeId === probe.probeId);
    return ours?.kind === "ignored"
      ? { probe: current, leftAlone: { reason: ours.reason, message: ours.message } }
      : { probe: current };
  } finally {
    await session.close().catch(() => {});
  }
}

/** Other mail in the mailbox is left there; a line on stderr says what and why. */
function logLeftAlone(findings: readonly FetchFinding[], options: OneFetchRoundTripOptions): void {
  for (const finding of findings) {
    if (finding.kind !== "ignored") continue;
    options.log.info("mailbox message left alone", {
      reason: finding.reason,
      message: finding.message,
      probe: finding.probeId,
    });
  }
}
