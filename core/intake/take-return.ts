import { describeError } from "../basics/describe-error.ts";
import { eventBatchFor } from "../events/event-batch.ts";
import type { JobPorts } from "../ports/job-ports.ts";
import { type CorrelationOutcome, correlateInbound, type InboundMail } from "../roundtrip/correlate.ts";
import { trustedAuthservIdsOf } from "../verdicts/trusted-authserv-ids.ts";
import { reportOutcome } from "./report-outcome.ts";

/** One inbound message as a shell hands it over: the mail, or only its size when it was too large to read. */
export type InboundReturn =
  | { readonly kind: "mail"; readonly mail: InboundMail }
  | {
      readonly kind: "too-large";
      readonly bytes: number;
      readonly maxBytes: number;
      readonly source: string;
    };

export interface IntakeResult {
  readonly outcome: CorrelationOutcome;
  /** Events queued (or logged without a sink). */
  readonly events: number;
  /** True when the sink refused them: the outcome stays unannounced and the next cycle sends it. */
  readonly eventsRefused: boolean;
}

/**
 * The return intake, the same in both shells (the correlator Lambda on an S3 object, `serve` on
 * a spooled message): the message is correlated with its probe (a conditional write, so a
 * duplicate records nothing), measured, logged, and its events published.
 *
 * Bad mail of any kind is a counted, logged rejection and returns normally, so the shell never
 * retries it. Only a store failure throws: the shell keeps the message and retries it, which
 * is safe because correlation is idempotent. A refused event sink does not throw: the outcome
 * is stored unannounced, and the next cycle announces it under the same event id.
 */
export async function takeReturn(inbound: InboundReturn, ports: JobPorts): Promise<IntakeResult> {
  const outcome = await correlate(inbound, ports);
  const source = inbound.kind === "mail" ? inbound.mail.source : inbound.source;
  reportOutcome(ports, outcome, source);
  if (outcome.kind !== "returned" && outcome.kind !== "late" && outcome.kind !== "bounced") {
    return { outcome, events: 0, eventsRefused: false };
  }
  const batch = eventBatchFor(ports);
  try {
    await batch.addRoundTrip(outcome.probe);
    return { outcome, events: await batch.publish(), eventsRefused: false };
  } catch (error) {
    ports.log.error("cannot build or queue the events of a round trip; the next cycle announces it again", {
      probe: outcome.probe.probeId,
      source,
      error: describeError(error),
    });
    return { outcome, events: 0, eventsRefused: true };
  }
}

async function correlate(inbound: InboundReturn, ports: JobPorts): Promise<CorrelationOutcome> {
  const { inbound: inboundConfig, roundTrip } = ports.config;
  if (inbound.kind === "too-large") {
    const detail = `${inbound.bytes} bytes, more than inbound.maxBytes ${inbound.maxBytes}`;
    await ports.probes.countRejection("malformed-mail", detail, ports.clock.now());
    return { kind: "rejected", reason: "malformed-mail", detail };
  }
  return correlateInbound(inbound.mail, {
    store: ports.probes,
    keys: await ports.probeKeys(),
    returnAddress: inboundConfig.returnAddress,
    inboundDomain: inboundConfig.domain,
    maxAgeMs: roundTrip.maxAgeSeconds * 1000,
    clock: ports.clock,
    trustedAuthservIds: (targetId) => {
      const target = ports.config.targets.find((candidate) => candidate.id === targetId);
      return target === undefined ? [] : trustedAuthservIdsOf(target);
    },
  });
}
