import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer, type ZoneRecord } from "../../../support/dns-zone-peer.ts";
import { schemaErrors } from "../../../support/event-schema.ts";
import { awsRuntime } from "../../../support/shell-runtime-aws.ts";
import { localRuntime } from "../../../support/shell-runtime-local.ts";
import {
  CHECKED_TARGET,
  latestResultsOf,
  POSTURE_CONFIRM_AFTER,
  POSTURE_DOMAIN,
  POSTURE_INTERVAL_SECONDS,
  POSTURE_TARGET,
  type ShellOptions,
  type ShellRuntime,
} from "../../../support/shell-runtimes.ts";

/*
 * The posture of a target's domain inside the scheduled cycle, one contract for both shells
 * (local mode on SQLite, the prober handler on DynamoDB): it runs when due and not again before
 * its interval (the last run is read from the store), and each check's result travels as a
 * service check's does: store, check.completed, flap control (posture.confirmAfter, not the
 * target's) and status.changed, metrics. The
 * DNS server is an in-process one on port 0 whose zone a case may change or silence.
 */

const INTERVAL_MS = POSTURE_INTERVAL_SECONDS * 1000;

/** A domain whose MX, SPF and DMARC are all in order. */
const GOOD_ZONE: readonly ZoneRecord[] = [
  [POSTURE_DOMAIN, "MX", `10 mx.${POSTURE_DOMAIN}`],
  [`mx.${POSTURE_DOMAIN}`, "A", "192.0.2.10"],
  [POSTURE_DOMAIN, "TXT", "v=spf1 ip4:192.0.2.0/24 -all"],
  [`_dmarc.${POSTURE_DOMAIN}`, "TXT", "v=DMARC1; p=reject"],
];

/** Every posture check this contract names; checkPosture may run more, which this does not mind. */
const NAMED_CHECKS = ["posture:mx", "posture:spf", "posture:dmarc"];

const postureEvents = (shell: ShellRuntime, type: string): ScoutEvent[] =>
  shell
    .queuedEvents()
    .filter(
      (event) =>
        event.type === type &&
        event.target === POSTURE_TARGET &&
        String(event.data.endpoint ?? event.data.subject).startsWith("posture:"),
    );

describe.each([
  { name: "local", start: localRuntime },
  { name: "aws", start: awsRuntime },
])("the posture in the cycle on $name", ({ start }) => {
  let shell: ShellRuntime;
  let dns: DnsPeer;
  let zone: ZoneRecord[];
  let silent: boolean;

  beforeEach(async () => {
    zone = [...GOOD_ZONE];
    silent = false;
    dns = await startZonePeer(zone, { silent: () => silent });
    const options: ShellOptions = { postureResolver: `127.0.0.1:${dns.port}` };
    shell = await start(options);
  });
  afterEach(async () => {
    await shell?.close();
    await dns?.close();
  });

  it("runs when due, stores each check's result with its reason, and queues a check.completed each", async () => {
    await shell.runCycle();
    const latest = await latestResultsOf(shell, POSTURE_TARGET);
    for (const subject of NAMED_CHECKS) {
      expect(latest.get(subject), subject).toMatchObject({
        kind: "posture",
        protocol: "dns",
        host: POSTURE_DOMAIN,
        port: dns.port,
        status: "OK",
        reason: "ok",
        posture: { check: subject.slice("posture:".length), domain: POSTURE_DOMAIN },
      });
    }
    expect(latest.get("posture:mx")?.posture?.facts).toMatchObject({
      hosts: [expect.objectContaining({ exchange: `mx.${POSTURE_DOMAIN}`, preference: 10 })],
    });

    const completed = postureEvents(shell, "check.completed");
    expect(completed.map((event) => event.data.endpoint)).toEqual(expect.arrayContaining(NAMED_CHECKS));
    expect(completed).toHaveLength(latest.size);
    for (const event of completed) expect(schemaErrors(event), String(event.data.endpoint)).toEqual([]);
    expect(completed.find((event) => event.data.endpoint === "posture:spf")?.data).toMatchObject({
      kind: "posture",
      protocol: "dns",
      status: "OK",
      reason: "ok",
      posture: { check: "spf", domain: POSTURE_DOMAIN, resolver: `127.0.0.1:${dns.port}` },
    });

    const metrics = await shell.postureMetrics();
    for (const subject of NAMED_CHECKS) {
      expect(metrics).toContainEqual({
        target: POSTURE_TARGET,
        check: subject.slice("posture:".length),
        status: "OK",
      });
    }
    // The service checks of the other targets ran in the same cycle.
    expect((await latestResultsOf(shell, CHECKED_TARGET)).size).toBe(2);
  });

  it("does not run again before its interval (its last run read from the store), then does", async () => {
    await shell.runCycle();
    const asked = dns.queries.length;
    expect(asked).toBeGreaterThan(0);

    shell.clock.advance(INTERVAL_MS / 4);
    await shell.runCycle();
    expect(dns.queries.length).toBe(asked);
    expect(await shell.stores.checks.checkHistory(POSTURE_TARGET, "posture:mx", 0, 10)).toHaveLength(1);
    expect(
      postureEvents(shell, "check.completed").filter((e) => e.data.endpoint === "posture:mx"),
    ).toHaveLength(1);

    shell.clock.advance(INTERVAL_MS);
    await shell.runCycle();
    expect(dns.queries.length).toBeGreaterThan(asked);
    expect(await shell.stores.checks.checkHistory(POSTURE_TARGET, "posture:mx", 0, 10)).toHaveLength(2);
    expect((await shell.postureMetrics()).filter((m) => m.check === "mx")).toHaveLength(2);
  });

  it("confirms a posture change at its first run (posture.confirmAfter 1), whatever the target's confirmAfter", async () => {
    expect(POSTURE_CONFIRM_AFTER).toBeGreaterThan(1);
    await shell.runCycle();
    expect(await shell.statusOf(POSTURE_TARGET, "posture:spf")).toMatchObject({ status: "OK" });

    zone.splice(
      zone.findIndex(([name, type]) => name === POSTURE_DOMAIN && type === "TXT"),
      1,
      [POSTURE_DOMAIN, "TXT", "v=spf1 +all"],
    );
    shell.clock.advance(INTERVAL_MS);
    await shell.runCycle();
    expect(await shell.statusOf(POSTURE_TARGET, "posture:spf")).toMatchObject({
      status: "CRITICAL",
      reason: "spf-pass-all",
    });
    // Of the SPF check alone: other checks (reverse DNS, say) may find this test zone wanting.
    const changed = postureEvents(shell, "status.changed").filter(
      (event) => event.data.subject === "posture:spf",
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      target: POSTURE_TARGET,
      data: { subject: "posture:spf", from: "OK", to: "CRITICAL", reason: "spf-pass-all", confirmations: 1 },
    });
    expect(schemaErrors(changed[0])).toEqual([]);
    expect(await shell.statusOf(POSTURE_TARGET, "posture:mx")).toMatchObject({ status: "OK" });
  });

  it("a resolver that never answers: each check UNKNOWN dns-error, and the rest of the cycle goes on", async () => {
    silent = true;
    await shell.runCycle();
    const latest = await latestResultsOf(shell, POSTURE_TARGET);
    for (const subject of NAMED_CHECKS) {
      expect(latest.get(subject), subject).toMatchObject({ status: "UNKNOWN", reason: "dns-error" });
    }
    expect(latest.get("posture:mx")?.message).toContain(`DNS MX ${POSTURE_DOMAIN} @127.0.0.1:${dns.port}`);
    expect((await latestResultsOf(shell, CHECKED_TARGET)).size).toBe(2);
    expect(postureEvents(shell, "check.completed").map((event) => event.data.status)).toEqual(
      expect.arrayContaining(["UNKNOWN"]),
    );
    expect(await shell.postureMetrics()).toContainEqual({
      target: POSTURE_TARGET,
      check: "mx",
      status: "UNKNOWN",
    });
  });
});
