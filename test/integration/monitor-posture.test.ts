import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../core/checks/result.ts";
import { parseConfigText } from "../../core/config/parse-config.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { type NsdServer, startNsd } from "../support/nsd-server.ts";

/*
 * The posture as `serve` runs it, with real DNS: Debian's NSD on loopback serves a healthy mail
 * domain, a broken one, their reverse zone and a blocklist; the monitor's own cycle asks it
 * through `posture.resolver`, stores a result per check under posture:<check>, and does not ask
 * again before the interval. (core/posture is tested check by check in dns-posture.test.ts; the
 * contract of both shells runs on an in-process DNS server in test/unit/core/cycle.)
 */
const ZONE = `
good IN MX 10 mx.good
mx.good IN A 127.0.0.10
good IN TXT "v=spf1 ip4:127.0.0.0/24 -all"
_dmarc.good IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.mon.test"
_smtp._tls.good IN TXT "v=TLSRPTv1; rua=mailto:tls@good.mon.test"
bad IN MX 10 127.0.0.11.
bad IN TXT "v=spf1 +all"
bad IN TXT "v=spf1 -all"
listed IN MX 10 mx.listed
mx.listed IN A 127.0.0.20
listed IN TXT "v=spf1 mx -all"
_dmarc.listed IN TXT "v=DMARC1; p=quarantine"
`;
const REVERSE = `
10 IN PTR mx.good.mon.test.
20 IN PTR mx.listed.mon.test.
`;
const BLOCKLIST = `
20.0.0.127 IN A 127.0.0.2
`;

let nsd: NsdServer;
let dir: string;
let monitor: LocalMonitor;
const lines: string[] = [];

beforeAll(async () => {
  nsd = await startNsd([
    { origin: "mon.test", records: ZONE },
    { origin: "0.0.127.in-addr.arpa", records: REVERSE },
    { origin: "bl.mon.test", records: BLOCKLIST },
  ]);
  dir = mkdtempSync(join(tmpdir(), "scout-monitor-posture-"));
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
  const config = parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: keyFile,
      inbound: {
        domain: "scout.mon.test",
        returnAddress: "returns@scout.mon.test",
        listen: { host: "127.0.0.1", port: 0 },
      },
      posture: {
        resolver: `127.0.0.1:${nsd.port}`,
        dnsbls: [{ zone: "bl.mon.test", severity: "CRITICAL" }],
      },
      targets: [
        { id: "good", domain: "good.mon.test" },
        { id: "bad", domain: "bad.mon.test" },
        { id: "listed", domain: "listed.mon.test" },
      ],
    }),
    "monitor-posture-test",
  );
  monitor = await LocalMonitor.open(
    config,
    consoleLogger((line) => lines.push(line)),
  );
  await monitor.start({ schedule: false });
  await monitor.runCycle();
}, 120_000);

afterAll(async () => {
  await monitor?.stop();
  await nsd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** check name -> [status, reason] of a target's latest posture results. */
async function postureOf(targetId: string): Promise<Record<string, [string, string]>> {
  const results: CheckResult[] = await monitor.store.latestCheckResultsOf(targetId, "posture:");
  return Object.fromEntries(
    results.map((result) => [result.endpoint, [result.status, result.problems[0]?.reason ?? "ok"]]),
  );
}

describe("the monitor's posture through NSD", () => {
  it("a healthy domain: every check OK, one result per check under posture:<check>", async () => {
    const posture = await postureOf("good");
    expect(posture, lines.join("\n")).toEqual({
      "posture:mx": ["OK", "ok"],
      "posture:spf": ["OK", "ok"],
      "posture:dmarc": ["OK", "ok"],
      "posture:mta-sts": ["OK", "ok"],
      "posture:tls-rpt": ["OK", "ok"],
      "posture:reverse-dns": ["OK", "ok"],
      "posture:dnsbl": ["OK", "ok"],
      "posture:dane": ["OK", "ok"],
    });
  });

  it("a broken domain: an IP literal MX and two SPF records are CRITICAL, a missing DMARC a WARNING", async () => {
    const posture = await postureOf("bad");
    expect(posture["posture:mx"]).toEqual(["CRITICAL", "mx-ip-literal"]);
    expect(posture["posture:spf"]).toEqual(["CRITICAL", "spf-multiple"]);
    expect(posture["posture:dmarc"]).toEqual(["WARNING", "dmarc-missing"]);
  });

  it("an MX address on the configured blocklist is CRITICAL, as the list's severity says", async () => {
    const posture = await postureOf("listed");
    expect(posture["posture:dnsbl"]).toEqual(["CRITICAL", "dnsbl-listed"]);
    expect(posture["posture:reverse-dns"]).toEqual(["OK", "ok"]);
  });

  it("the next cycle does not ask again before the interval", async () => {
    const before = await monitor.store.latestCheckResultsOf("good", "posture:");
    await monitor.runCycle();
    const after = await monitor.store.latestCheckResultsOf("good", "posture:");
    expect(after.map((result) => result.startedAt).sort()).toEqual(
      before.map((result) => result.startedAt).sort(),
    );
  });
});
