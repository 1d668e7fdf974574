import type { Clock } from "../ports/clock.ts";
import type { Logger } from "../ports/logger.ts";
import type { MailSender } from "../ports/mail-sender.ts";
import type { ProbeRecord, ProbeStore } from "../ports/probe-store.ts";
import type { ProbeKey } from "../wire/probe-key.ts";
import { newProbeId } from "../wire/probe-token.ts";
import { composeProbe, signProbe } from "./probe-message.ts";

export interface SendProbeDeps {
  readonly store: ProbeStore;
  readonly sender: MailSender;
  /** The target's signing key: the first of its ring. */
  readonly key: ProbeKey;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface ProbeRequest {
  readonly targetId: string;
  readonly to: string;
  readonly from: string;
  readonly inboundDomain: string;
  readonly deadlineMs: number;
}

/**
 * Sends one probe. It is recorded as "sent" before it leaves, so a return that comes back
 * faster than the send call returns still finds its probe; a failed send then moves it to
 * "send-failed" with the relay's answer, which is a result, not a lost probe.
 */
export async function sendProbe(request: ProbeRequest, deps: SendProbeDeps): Promise<ProbeRecord> {
  const probeId = newProbeId();
  const composed = await composeProbe({
    probeId,
    targetId: request.targetId,
    to: request.to,
    from: request.from,
    inboundDomain: request.inboundDomain,
    dateMs: deps.clock.now(),
  });
  // A paced sender's wait for its slot comes before the round trip starts, not inside it
  // (the Date header, stamped while composing, may then be a little older than the send).
  await deps.sender.reserveSend?.();
  // The round trip starts here: composing is done, signing is microseconds.
  const sentAtMs = deps.clock.now();
  const built = signProbe(composed, { sentAtMs, key: deps.key });
  const probe = {
    probeId,
    targetId: request.targetId,
    toAddress: request.to,
    messageId: built.messageId,
    sentAtMs,
    deadlineMs: sentAtMs + request.deadlineMs,
  };
  await deps.store.recordSent(probe);
  try {
    const receipt = await deps.sender.send({ envelope: built.envelope, raw: built.raw });
    deps.log.info("probe sent", {
      target: request.targetId,
      probe: probeId,
      to: request.to,
      relay: receipt.response,
    });
    return { ...probe, state: "sent", updatedAtMs: sentAtMs };
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    deps.log.warn("probe send failed", {
      target: request.targetId,
      probe: probeId,
      to: request.to,
      error: reason,
    });
    const failed = await deps.store.transition(
      probeId,
      ["sent"],
      "send-failed",
      { error: reason },
      deps.clock.now(),
    );
    return failed ?? { ...probe, state: "send-failed", updatedAtMs: deps.clock.now(), error: reason };
  }
}
