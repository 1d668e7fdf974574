import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { checkPosture } from "../../../../core/posture/check-posture.ts";
import type { PostureReason } from "../../../../core/posture/posture-reasons.ts";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer } from "../../../support/dns-zone-peer.ts";

/*
 * targets[].posture.ignore: the findings of the reasons named are dropped before each result's
 * status is made, and the message counts them. A domain deliberately at p=none, with a backup
 * MX that no service check watches.
 */

let peer: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  peer = await startZonePeer([
    ["relaxed.test", "MX", "10 mx.relaxed.test"],
    ["relaxed.test", "MX", "20 backup.relaxed.test"],
    ["mx.relaxed.test", "A", "192.0.2.10"],
    ["backup.relaxed.test", "A", "192.0.2.11"],
    ["relaxed.test", "TXT", "v=spf1 mx -all"],
    ["_dmarc.relaxed.test", "TXT", "v=DMARC1; p=none"],
  ]);
});
afterAll(() => peer.close());

const run = async (ignore?: readonly PostureReason[]) => {
  const results = await checkPosture(peer.resolver, "relaxed.test", {
    endpointHosts: ["mx.relaxed.test"],
    dnsbls: [],
    ...(ignore === undefined ? {} : { ignore }),
  });
  return new Map(results.map((result) => [result.check, result]));
};
const summary = (result: PostureResult | undefined) => [result?.status, result?.reason, result?.message];

describe("ignored posture reasons", () => {
  it("are findings like any other when not ignored", async () => {
    const results = await run();
    expect(summary(results.get("dmarc"))).toEqual([
      "WARNING",
      "dmarc-monitoring-only",
      expect.stringContaining("p=none"),
    ]);
    expect(results.get("mx")?.reason).toBe("mx-endpoints-differ");
  });

  it("are dropped before the status is made, and the message says how many", async () => {
    const results = await run(["dmarc-monitoring-only", "mx-endpoints-differ"]);
    const dmarc = results.get("dmarc");
    expect(dmarc).toMatchObject({ status: "OK", reason: "ok", findings: [] });
    expect(dmarc?.message).toMatch(/^DMARC p=none.*; 1 finding ignored \(dmarc-monitoring-only\)$/);
    expect(summary(results.get("mx"))).toEqual([
      "OK",
      "ok",
      expect.stringMatching(/^MX .*; 1 finding ignored \(mx-endpoints-differ\)$/),
    ]);
    // A check none of whose findings is ignored is as it was.
    expect(results.get("spf")?.message).not.toContain("ignored");
  });
});
