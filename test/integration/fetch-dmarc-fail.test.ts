import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { RoundTripCompletedData } from "../../core/events/roundtrip-completed.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { demoFetch, demoFetchConfig, FETCH_INBOUND, FETCH_USER } from "../support/demo-fetch-config.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

/*
 * A probe the receiver's DMARC fails, through real parts only: the monitor sends From a domain
 * whose DMARC policy is p=reject, unsigned, from an envelope domain that is not its own (so SPF
 * passes for scout-fetch.test but does not align). rspamd, the demo host's second milter, looks
 * the records up in the demo host's DNS (NSD) and stamps dmarc=fail; the probe is still
 * delivered (rspamd enforces no DMARC policy there) and found over IMAP, and serve's cycle makes
 * of it the round trip's WARNING with reason dmarc-fail.
 */
let demo: DemoHost;
let monitor: LocalMonitor;
const lines: string[] = [];
const completed: ScoutEvent[] = [];

beforeAll(async () => {
  demo = demoHost();
  const dir = mkdtempSync(join(tmpdir(), "scout-dmarc-fail-"));
  const config = demoFetchConfig(demo, dir, {
    source: "fetch-dmarc-fail-test",
    from: `monitor@${demo.dmarcFailDomain}`,
    targets: [
      {
        id: "dmarc-fail",
        probe: { to: `${FETCH_USER}+dmarc@scout.test`, fetch: demoFetch(demo, "imaps://127.0.0.1:993") },
      },
    ],
  });
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
      spf: { result: "pass", domain: FETCH_INBOUND },
      dkim: { result: "none" },
      dmarc: { result: "fail", domain: demo.dmarcFailDomain },
    });
    // rspamd's reason, and the policy from its comment.
    expect(probe?.verdicts?.dmarc?.reason).toBe("SPF not aligned (relaxed), No valid DKIM (policy=reject)");
    // Not spam by rspamd's score (about 3): DMARC's is the one finding.
    expect(probe?.verdicts?.spam).toMatchObject([{ filter: "rspamd", verdict: "ham" }]);
  });

  it("gives the round trip a WARNING with reason dmarc-fail", () => {
    expect(completed, lines.join("\n")).toHaveLength(1);
    const data = completed[0]?.data as RoundTripCompletedData;
    expect(data).toMatchObject({ outcome: "returned", status: "WARNING", reason: "dmarc-fail" });
  });
});
