/*
 * The deploy configuration of the prober-at-scale run: `endpoints` endpoints in targets of ten
 * (or `endpointsPerTarget`), each target with a round-trip probe, spread over the stand-in
 * servers (half SMTP, a quarter
 * each IMAP and POP3, all STARTTLS required and verified against the test CA). Several
 * endpoints share a server, but never within one target, so every endpoint URL of a target is
 * distinct, as a real target's are. One webhook endpoint receives every event.
 */
import type { StandIns } from "./standins.ts";

export const ENDPOINTS_PER_TARGET = 10;
export const INBOUND_DOMAIN = "scout-returns.example.com";

export function scaleConfig(options: {
  readonly standIns: StandIns;
  readonly endpoints: number;
  readonly checkConcurrency: number;
  readonly intervalSeconds: number;
  readonly caFile: string;
  readonly endpointsPerTarget?: number;
}): Record<string, unknown> {
  const { standIns, caFile, endpointsPerTarget = ENDPOINTS_PER_TARGET } = options;
  const next = { smtp: 0, imap: 0, pop3: 0 };
  const endpointUrl = (index: number): string => {
    // Two SMTP, one IMAP, one POP3 in every four endpoints.
    const protocol = (["smtp", "smtp", "imap", "pop3"] as const)[index % 4] ?? "smtp";
    const ports = { smtp: standIns.smtpPorts, imap: standIns.imapPorts, pop3: standIns.pop3Ports }[protocol];
    const port = ports[next[protocol]++ % ports.length];
    return `${protocol}://127.0.0.1:${port}`;
  };
  const targets: Record<string, unknown>[] = [];
  for (let first = 0; first < options.endpoints; first += endpointsPerTarget) {
    const id = `t${String(targets.length + 1).padStart(4, "0")}`;
    const count = Math.min(endpointsPerTarget, options.endpoints - first);
    targets.push({
      id,
      endpoints: Array.from({ length: count }, (_, offset) => ({ url: endpointUrl(first + offset), caFile })),
      probe: { to: `probe@${id}.example.com` },
    });
  }
  return {
    schedule: { intervalSeconds: options.intervalSeconds, checkConcurrency: options.checkConcurrency },
    inbound: { domain: INBOUND_DOMAIN, returnAddress: `returns@${INBOUND_DOMAIN}` },
    targets,
    // One receiver for every event (as a sentinel3G agent would be): one SQS message per event.
    webhooks: { endpoints: [{ id: "alerts", url: "https://alerts.example.com/email-scout" }] },
    aws: { retentionDays: 30 },
  };
}
