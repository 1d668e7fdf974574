import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { ScoutConfig } from "../../core/config/schema.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import type { DemoHost } from "./demo-host.ts";

/** The demo host's fetch-mode mailbox: no ~/.forward, read over IMAP and POP3. */
export const FETCH_USER = "probe-fetch";
export const FETCH_INBOUND = "scout-fetch.test";

/** A fetch block for the probe-fetch mailbox with its password, trusting the demo CA. */
export function demoFetch(demo: DemoHost, url: string, extra: object = {}): object {
  return {
    url,
    user: FETCH_USER,
    passwordFile: join(demo.dir, `${FETCH_USER}.password`),
    caFile: demo.caFile,
    pollSeconds: 1,
    waitSeconds: 20,
    ...extra,
  };
}

/**
 * A local monitor's config whose probes go through the demo host's Postfix (STARTTLS, the demo
 * CA) and are found in the mailbox, never returned: data and a new probe key in `dir`, the
 * listener on a free port. `from` replaces the probes' From; `dkim` signs them with the demo key.
 */
export function demoFetchConfig(
  demo: DemoHost,
  dir: string,
  options: { targets: object[]; from?: string; dkim?: boolean; deadlineSeconds?: number; source: string },
): ScoutConfig {
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
  const dkim = {
    domain: FETCH_INBOUND,
    selector: demo.dkim.selector,
    privateKeyFile: demo.dkim.privateKeyFile,
  };
  return parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: keyFile,
      inbound: {
        domain: FETCH_INBOUND,
        returnAddress: `returns@${FETCH_INBOUND}`,
        listen: { host: "127.0.0.1", port: 0 },
      },
      outbound: {
        from: options.from ?? `monitor@${FETCH_INBOUND}`,
        relay: { host: demo.host, port: 25, tls: "require-starttls", caFile: demo.caFile },
        ...(options.dkim ? { dkim } : {}),
      },
      roundTrip: { deadlineSeconds: options.deadlineSeconds ?? 30, warningSeconds: 10, criticalSeconds: 20 },
      targets: options.targets,
    }),
    options.source,
  );
}
