import {
  type CorrelateDeps,
  type CorrelationOutcome,
  correlateInbound,
  type InboundMail,
} from "../../core/roundtrip/correlate.ts";
import type { Spool, SpoolEntry } from "../adapters/spool.ts";

/** Reads one spooled message as the core takes inbound mail. */
export async function readSpooledMail(spool: Spool, id: string): Promise<InboundMail> {
  return inboundMailOf(await spool.read(id));
}

/** A spooled message as the core takes inbound mail: the spool's envelope becomes the core's. */
export function inboundMailOf(entry: SpoolEntry): InboundMail {
  const { id } = entry;
  return {
    raw: entry.raw,
    receivedAtMs: entry.meta.receivedAtMs,
    envelope: { mailFrom: entry.meta.envelope.from, rcptTo: entry.meta.envelope.to },
    source: id,
  };
}

/**
 * Correlates one spooled message without the rest of the intake (no events, no metrics): for
 * the one-off `email-scout probe`, which keeps no store beyond its own run.
 */
export async function correlateSpooled(
  spool: Spool,
  id: string,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  return correlateInbound(await readSpooledMail(spool, id), deps);
}
