import type { Clock } from "../ports/clock.ts";
import type { Logger } from "../ports/logger.ts";
import type { MailboxFolder, MailboxMessage, MailboxSession } from "../ports/mailbox.ts";
import type { ProbeRecord, ProbeStore } from "../ports/probe-store.ts";
import { fetchedVerdicts } from "../verdicts/receiver-verdicts.ts";
import { headerValue, parseMessage } from "../wire/parse-headers.ts";
import { ProbeTokenError, type VerifiedToken } from "../wire/probe-token.ts";
import { REMOTE_CLOCK_TOLERANCE_MS } from "./correlate.ts";
import { hopsFromHeaderLines } from "./received-hops.ts";
import { type TargetKeyRings, verifyTokenInRings } from "./target-key-rings.ts";

/*
 * Fetch mode: the probe is not mailed back, the monitor finds it in the target's mailbox. A
 * message found there becomes at most one state change of its probe (sent -> returned, or
 * lost -> late), the same conditional writes as a return takes.
 *
 * What the round-trip time measures: from the send to the moment the monitor saw the probe in
 * the mailbox, both on the monitor's clock. With IMAP IDLE that is the EXISTS notification that
 * announced it (the server tells the client within its own delivery, so this is the delivery
 * time plus one loopback or network hop), or the first look after the send when the probe was
 * already there; without IDLE, and for the junk folder, it is the
 * listing that found it, so the RTT is over by up to pollSeconds. The server's INTERNALDATE is
 * its own clock at one-second resolution: shown as the remote arrival, never the metric.
 *
 * Deletion: only a message whose X-Scout-Probe token carries this monitor's valid signature
 * and names this target is ever deleted; anything else is left alone, whatever it looks like.
 */

export interface FetchProbesDeps {
  readonly targetId: string;
  readonly store: ProbeStore;
  /** Every target's key ring: a found probe's token is checked in the ring of the target it names. */
  readonly rings: TargetKeyRings;
  readonly clock: Clock;
  readonly log: Logger;
  /** A probe older than this is not recorded (it is still deleted: it is ours). */
  readonly maxAgeMs: number;
  readonly deleteAfterFetch: boolean;
  /** Whose Authentication-Results count in a found probe's header (trustedAuthservIdsOf). */
  readonly trustedAuthservIds: readonly string[];
}

/** What one message in the mailbox turned out to be. */
export type FetchFinding =
  | {
      readonly kind: "returned" | "late";
      readonly probe: ProbeRecord;
      /** The probe's header block as delivered, for the receiver's verdicts. */
      readonly headerLines: readonly string[];
    }
  | { readonly kind: "duplicate"; readonly probeId: string }
  | {
      readonly kind: "ignored";
      readonly reason: string;
      readonly probeId?: string;
      /** Which message: its folder and id. */
      readonly message: string;
    };

const MAX_FUTURE_SKEW_MS = 10 * 60_000;

/** Reads every probe message in the mailbox's inbox and junk folder and records what it finds. */
export async function takeDeliveredProbes(
  session: MailboxSession,
  deps: FetchProbesDeps,
): Promise<FetchFinding[]> {
  const findings: FetchFinding[] = [];
  for (const message of await session.probeMessages()) {
    const { finding, ours } = await judgeAndRecord(message, deps);
    findings.push(finding);
    if (!ours || !deps.deleteAfterFetch) continue;
    try {
      await session.delete(message);
    } catch (error) {
      // It stays in the mailbox and is found again next time: a duplicate then, never a second result.
      deps.log.warn("cannot delete a fetched probe", {
        target: deps.targetId,
        folder: message.folderName,
        error: (error as Error).message,
      });
    }
  }
  return findings;
}

/**
 * Waits until the probe `probeId` is seen (or `untilMs` passes), taking every probe found on
 * the way; new inbox mail wakes it at once over IDLE, otherwise it looks every `pollMs`.
 */
export async function awaitProbe(
  session: MailboxSession,
  probeId: string,
  options: { readonly untilMs: number; readonly pollMs: number },
  deps: FetchProbesDeps,
): Promise<FetchFinding[]> {
  const findings: FetchFinding[] = [];
  // Mail left alone is found again at every look: it is reported once per wait.
  const leftAlone = new Set<string>();
  for (;;) {
    const found = await takeDeliveredProbes(session, deps);
    for (const finding of found) {
      if (finding.kind === "ignored") {
        if (leftAlone.has(finding.message)) continue;
        leftAlone.add(finding.message);
      }
      findings.push(finding);
    }
    if (found.some((finding) => "probeId" in finding && finding.probeId === probeId)) return findings;
    if (found.some((finding) => "probe" in finding && finding.probe.probeId === probeId)) return findings;
    const now = deps.clock.now();
    if (now >= options.untilMs) return findings;
    await session.waitForNews(Math.min(options.untilMs, now + options.pollMs));
  }
}

type Judged = { finding: FetchFinding; ours: boolean };

async function judgeAndRecord(message: MailboxMessage, deps: FetchProbesDeps): Promise<Judged> {
  const ignored = (reason: string, probeId?: string, ours = false): Judged => ({
    finding: {
      kind: "ignored",
      reason,
      message: `${message.folderName}/${message.id}`,
      ...(probeId === undefined ? {} : { probeId }),
    },
    ours,
  });
  const parsed = parseMessage(Buffer.from(`${message.headerLines.join("\r\n")}\r\n\r\n`, "latin1"));
  const tokenText = headerValue(parsed.fields, "X-Scout-Probe");
  if (tokenText === undefined) return ignored("no X-Scout-Probe header");
  let token: VerifiedToken;
  try {
    // The signature alone first (no clock limits): it decides whether the message is ours.
    token = verifyTokenInRings(tokenText, deps.rings, {
      nowMs: message.seenAtMs,
      maxAgeMs: Number.POSITIVE_INFINITY,
      maxFutureSkewMs: Number.POSITIVE_INFINITY,
    });
  } catch (error) {
    if (!(error instanceof ProbeTokenError)) throw error;
    return ignored(`token ${error.reason}`);
  }
  if (token.targetId !== deps.targetId) {
    // Another target's probe in a shared mailbox: that target's own fetch takes it.
    return ignored(`a probe of target ${token.targetId}`, token.probeId);
  }
  // email_return's reply carries the probe's token too; it is not the probe.
  const keyword = (headerValue(parsed.fields, "Auto-Submitted") ?? "").split(/[;(]/)[0]?.trim().toLowerCase();
  if (keyword !== "auto-generated") return ignored("not a probe (Auto-Submitted)", token.probeId);
  const ageMs = message.seenAtMs - token.sentAtMs;
  if (ageMs > deps.maxAgeMs || -ageMs > MAX_FUTURE_SKEW_MS) {
    return ignored("token too old or from the future", token.probeId, true);
  }
  const probe = await deps.store.get(token.probeId);
  if (probe === undefined || probe.targetId !== token.targetId || probe.sentAtMs !== token.sentAtMs) {
    return ignored("no such probe", token.probeId, true);
  }
  const recorded = await record(probe, message, deps);
  if (recorded === undefined) return { finding: { kind: "duplicate", probeId: probe.probeId }, ours: true };
  const kind = recorded.state === "returned" ? "returned" : "late";
  return { finding: { kind, probe: recorded, headerLines: message.headerLines }, ours: true };
}

/** sent -> returned, or lost -> late; undefined when the probe had already left both states. */
function record(
  probe: ProbeRecord,
  message: MailboxMessage,
  deps: FetchProbesDeps,
): Promise<ProbeRecord | undefined> {
  const rttMs = message.seenAtMs - probe.sentAtMs;
  const outcome = {
    returnedAtMs: message.seenAtMs,
    rttMs,
    folder: message.folder satisfies MailboxFolder,
    hops: hopsFromHeaderLines(message.headerLines),
    // The receiver's verdicts and where it filed the probe: junk is a finding of its own.
    verdicts: fetchedVerdicts(
      message.headerLines,
      { name: message.folderName, junk: message.folder === "junk" },
      { trustedAuthservIds: deps.trustedAuthservIds },
    ),
    ...serverClockFacts(probe.sentAtMs, message),
  };
  const { store, clock } = deps;
  return store
    .transition(probe.probeId, ["sent"], "returned", outcome, clock.now())
    .then(
      async (returned) => returned ?? store.transition(probe.probeId, ["lost"], "late", outcome, clock.now()),
    );
}

/** The server's arrival time and the clock offset it implies, as a return's remote arrival is shown. */
function serverClockFacts(sentAtMs: number, message: MailboxMessage) {
  const arrived = message.serverArrivedAtMs;
  if (arrived === undefined) return {};
  const skewed =
    arrived < sentAtMs - REMOTE_CLOCK_TOLERANCE_MS || arrived > message.seenAtMs + REMOTE_CLOCK_TOLERANCE_MS;
  const midpointMs = (sentAtMs + message.seenAtMs) / 2;
  return skewed
    ? { remoteArrivedAtMs: arrived, remoteClockSkewed: true }
    : { remoteArrivedAtMs: arrived, remoteClockOffsetMs: Math.round(arrived - midpointMs) };
}
