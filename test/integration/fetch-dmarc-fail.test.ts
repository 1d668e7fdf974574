import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { RoundTripCompletedData } from "../../core/events/roundtrip-completed.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

/*
 * A probe the receiver's DMARC fails, through real parts only: the monitor sends From a domain
 * whose DMARC policy is p=reject, unsigned, from an envelope domain that is not its own (so SPF
 * passes for scout-fetch.test but does not align). rspamd, the demo host's second milter, looks
 * the records up in the demo host's DNS (NSD) and stamps dmarc=fail; the probe is still
 * delivered (rspamd enforces no DMARC policy there) and found over IMAP, and serve's cycle makes
 * of it the round trip's WARNING with reason dmarc-fail.
 */
const INBOUND = "scout-fetch.test";
const FETCH_USER = "probe-fetch";

let demo: DemoHost;
let monitor: LocalMonitor;
const lines: string[] = [];
const completed: ScoutEvent[] = [];

beforeAll(async () => {
  demo = demoHost();
  const dir = mkdtempSync(join(tmpdir(), "scout-dmarc-fail-"));
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
  const config = parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: keyFile,
      inbound: {
        domain: INBOUND,
        returnAddress: `returns@${INBOUND}`,
        listen: { host: "127.0.0.1", port: 0 },
      },
      outbound: {
        from: `monitor@${demo.dmarcFailDomain}`,
        relay: { host: demo.host, port: 25, tls: "require-starttls", caFile: demo.caFile },
      },
      roundTrip: { deadlineSeconds: 30, warningSeconds: 10, criticalSeconds: 20 },
      targets: [
        {
          id: "dmarc-fail",
          probe: {
            to: `${FETCH_USER}+dmarc@scout.test`,
            fetch: {
              url: "imaps://127.0.0.1:993",
              user: FETCH_USER,
              passwordFile: join(demo.dir, `${FETCH_USER}.password`),
              caFile: demo.caFile,
              pollSeconds: 1,
              waitSeconds: 20,
            },
          },
        },
      ],
    }),
    "fetch-dmarc-fail-test",
  );
  monitor = await LocalMonitor.open(
    config,
    consoleLogger((line) => lines.push(line)),
  );
  monitor.events.on("event", (event) => {
    if (event.type === "roundtrip.completed") completed.push(event);
  });
  await monitor.start({ schedule: false });
  await monitor.runCycle();
}, 120_000);

afterAll(async () => {
  await monitor?.stop();
});

describe("a probe whose From domain fails the receiver's DMARC", () => {
  it("is delivered and found, with rspamd's dmarc=fail and its reason", async () => {
    const [probe] = await monitor.store.recent("dmarc-fail", 0, 1);
    expect(probe?.state, lines.join("\n")).toBe("returned");
    expect(probe?.folder).toBe("inbox");
    expect(probe?.verdicts).toMatchObject({
      authservId: demo.authservId,
      spf: { result: "pass", domain: INBOUND },
      dkim: { result: "none" },
      dmarc: { result: "fail", domain: demo.dmarcFailDomain },
    });
    // rspamd's reason; the policy (p=reject) is in a comment the parser leaves aside.
    expect(probe?.verdicts?.dmarc?.reason).toBe("SPF not aligned (relaxed), No valid DKIM");
    // Not spam by rspamd's score (about 3): DMARC's is the one finding.
    expect(probe?.verdicts?.spam).toMatchObject([{ filter: "rspamd", verdict: "ham" }]);
  });

  it("gives the round trip a WARNING with reason dmarc-fail", () => {
    expect(completed, lines.join("\n")).toHaveLength(1);
    const data = completed[0]?.data as RoundTripCompletedData;
    expect(data).toMatchObject({ outcome: "returned", status: "WARNING", reason: "dmarc-fail" });
  });
});
