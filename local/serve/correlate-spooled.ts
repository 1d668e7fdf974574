import {
  type CorrelateDeps,
  type CorrelationOutcome,
  correlateInbound,
} from "../../core/roundtrip/correlate.ts";
import type { Spool } from "../adapters/spool.ts";

/** Reads one spooled message and correlates it; the spool's envelope becomes the core's. */
export async function correlateSpooled(
  spool: Spool,
  id: string,
  deps: CorrelateDeps,
): Promise<CorrelationOutcome> {
  const entry = await spool.read(id);
  return correlateInbound(
    {
      raw: entry.raw,
      receivedAtMs: entry.meta.receivedAtMs,
      envelope: { mailFrom: entry.meta.envelope.from, rcptTo: entry.meta.envelope.to },
      source: id,
    },
    deps,
  );
}
