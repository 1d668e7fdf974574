import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { ScoutConfig } from "../../../../core/config/schema.ts";
import type { CyclePorts } from "../../../../core/cycle/cycle-ports.ts";
import { runCycle } from "../../../../core/cycle/run-cycle.ts";
import type { DnsResolver } from "../../../../core/dns/dns-resolver.ts";
import { NO_METRICS } from "../../../../core/ports/metrics.ts";
import { postureOptionsForTarget } from "../../../../core/posture/posture-options-for-target.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import type { DnsPeer } from "../../../support/dns-peer.ts";
import { startZonePeer } from "../../../support/dns-zone-peer.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

/*
 * The posture step's schedule, on the memory stores: the last run is whatever the store holds,
 * so ports built anew (a restarted `serve`, a Lambda's cold start) do not run it early; due at
 * posture.intervalSeconds less half a cycle; a new domain is due at once.
 */

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const CYCLE_SECONDS = 60;
const POSTURE_SECONDS = 3600;

let dns: DnsPeer & { resolver: DnsResolver };
beforeAll(async () => {
  dns = await startZonePeer([
    ["one.test", "MX", "10 mx.one.test"],
    ["mx.one.test", "A", "192.0.2.10"],
    ["two.test", "MX", "10 mx.two.test"],
    ["mx.two.test", "A", "192.0.2.20"],
    ["silent.test", "SILENT", ""],
  ]);
});
afterAll(async () => {
  await dns?.close();
});

function configFor(domain: string, posture: object = {}): ScoutConfig {
  return parseConfigText(
    JSON.stringify({
      dataDir: "/unused",
      probeKeyFile: "/unused",
      inbound: { domain: "s.example.com", returnAddress: "r@s.example.com" },
      schedule: { intervalSeconds: CYCLE_SECONDS },
      posture: {
        intervalSeconds: POSTURE_SECONDS,
        resolver: `127.0.0.1:${dns.port}`,
        retries: 0,
        ...posture,
      },
      targets: [{ id: "dns1", domain }],
    }),
    "posture-step",
  );
}

/** What outlives a process: the stores and the clock. */
function shared() {
  let nowMs = T0;
  return {
    store: new MemoryStore(),
    statuses: new MemoryStatusStore(),
    clock: { now: () => nowMs },
    advance: (ms: number) => (nowMs += ms),
  };
}

/** Ports built afresh over the shared stores, as a new process or a cold start builds them. */
function freshPorts(
  state: ReturnType<typeof shared>,
  domain = "one.test",
  extra: { posture?: object; postureResolver?: DnsResolver } = {},
): CyclePorts {
  return {
    ...(extra.postureResolver === undefined ? {} : { postureResolver: extra.postureResolver }),
    config: configFor(domain, extra.posture),
    probeKeys: async () => new Map(),
    probes: state.store,
    statuses: state.statuses,
    events: undefined,
    metrics: NO_METRICS,
    clock: state.clock,
    log: new RecordingLogger(),
    planChecks: async () => [],
    checks: state.store,
    sender: { send: async () => ({ response: "250 ok" }) },
    probeFrom: "scout@s.example.com",
  };
}

const mxRuns = async (state: ReturnType<typeof shared>) =>
  (await state.store.checkHistory("dns1", "posture:mx", 0, 100)).map((result) => result.host);

describe("the posture schedule", () => {
  it("is read from the store: ports built anew do not run it before its interval", async () => {
    const state = shared();
    expect((await runCycle(freshPorts(state))).postureChecks).toBeGreaterThanOrEqual(3);
    state.advance(CYCLE_SECONDS * 1000);
    expect((await runCycle(freshPorts(state))).postureChecks).toBe(0);
    expect(await mxRuns(state)).toEqual(["one.test"]);
  });

  it("is due at its interval less half a cycle, not a moment before", async () => {
    const state = shared();
    await runCycle(freshPorts(state));
    const dueAfterMs = POSTURE_SECONDS * 1000 - (CYCLE_SECONDS * 1000) / 2;
    state.advance(dueAfterMs - 1);
    expect((await runCycle(freshPorts(state))).postureChecks).toBe(0);
    state.advance(1);
    expect((await runCycle(freshPorts(state))).postureChecks).toBeGreaterThanOrEqual(3);
    expect(await mxRuns(state)).toEqual(["one.test", "one.test"]);
  });

  it("runs a target's new domain at once", async () => {
    const state = shared();
    await runCycle(freshPorts(state, "one.test"));
    state.advance(CYCLE_SECONDS * 1000);
    await runCycle(freshPorts(state, "two.test"));
    expect(await mxRuns(state)).toEqual(["one.test", "two.test"]);
  });
});

describe("a posture check that fails or overruns", () => {
  const latestPosture = async (state: ReturnType<typeof shared>) =>
    new Map(
      (await state.store.latestCheckResultsOf("dns1", "posture:")).map((result) => [result.endpoint, result]),
    );

  it("is that check's UNKNOWN check-error: the others' results are stored, and the run is not due next cycle", async () => {
    const state = shared();
    // A resolver that throws what no DNS failure is, on the DMARC check's first question only.
    const throwing: DnsResolver = {
      server: dns.resolver.server,
      query: (name, type) =>
        name.startsWith("_dmarc.")
          ? Promise.reject(new TypeError("unexpected answer shape"))
          : dns.resolver.query(name, type),
    };
    const summary = await runCycle(freshPorts(state, "one.test", { postureResolver: throwing }));
    expect(summary.errors).toEqual([]);
    const latest = await latestPosture(state);
    expect(latest.get("posture:dmarc")).toMatchObject({
      status: "UNKNOWN",
      reason: "check-error",
      message: "the dmarc check failed: unexpected answer shape",
    });
    expect(latest.get("posture:mx")).toMatchObject({ status: "OK", reason: "ok" });
    expect(latest.size).toBe(8);

    state.advance(CYCLE_SECONDS * 1000);
    expect((await runCycle(freshPorts(state, "one.test", { postureResolver: throwing }))).postureChecks).toBe(
      0,
    );
  });

  it("is UNKNOWN posture-budget-exceeded past posture.budgetSeconds, and the cycle goes on", async () => {
    const state = shared();
    // Each DNS try waits 5 s for the silent name; the budget ends the run after 1 s.
    const summary = await runCycle(
      freshPorts(state, "silent.test", { posture: { budgetSeconds: 1, timeoutMs: 5000 } }),
    );
    expect(summary.errors).toEqual([]);
    expect(summary.postureChecks).toBe(8);
    const latest = await latestPosture(state);
    expect(latest.size).toBe(8);
    const unfinished = {
      status: "UNKNOWN",
      reason: "posture-budget-exceeded",
      message: "not finished within the posture budget of 1 s",
    };
    // The domain's own name is silent: the checks that ask it first wait on it...
    expect(latest.get("posture:mx")).toMatchObject(unfinished);
    expect(latest.get("posture:spf")).toMatchObject(unfinished);
    // ...and one that asks only other names (they answer NXDOMAIN) finished and is kept.
    expect(latest.get("posture:dmarc")).toMatchObject({ status: "WARNING", reason: "dmarc-missing" });

    state.advance(CYCLE_SECONDS * 1000);
    expect((await runCycle(freshPorts(state, "silent.test"))).postureChecks).toBe(0);
  });
});

describe("postureOptionsForTarget", () => {
  const configWith = (extra: object) =>
    parseConfigText(
      JSON.stringify({
        dataDir: "/unused",
        probeKeyFile: "/unused",
        inbound: { domain: "s.example.com", returnAddress: "r@s.example.com" },
        targets: [{ id: "t", domain: "example.com", ...extra }],
      }),
      "options",
    );
  const target = (extra: object) => configWith(extra).targets[0] as ScoutConfig["targets"][number];
  const context = { config: configWith({}), probeFrom: "scout@s.example.com" };

  it("compares the MX with the port-25 SMTP hosts, and judges alignment for the probes' From domain", () => {
    const options = postureOptionsForTarget(
      target({
        endpoints: [
          { url: "smtp://MX1.example.com" },
          { url: "smtp://mx1.example.com:2525" },
          { url: "smtp://relay.example.com:2525" },
          { url: "smtp://mx2.example.com:25" },
          { url: "smtp://192.0.2.25" },
          { url: "submission://mail.example.com" },
          { url: "imaps://mail.example.com" },
        ],
      }),
      context,
    );
    expect(options).toEqual({
      budgetMs: 60_000,
      endpointHosts: ["mx1.example.com", "mx2.example.com"],
      fromDomain: "s.example.com",
      mtaSts: { required: false, timeoutMs: 10_000 },
      tlsRptRequired: false,
    });
  });

  it("passes the greetings' host names for reverse DNS, none when no check saw one", () => {
    const bannerHosts = { "mx1.example.com": "mail.example.com" };
    expect(postureOptionsForTarget(target({}), { ...context, bannerHosts }).bannerHosts).toEqual(bannerHosts);
    expect(postureOptionsForTarget(target({}), { ...context, bannerHosts: {} })).not.toHaveProperty(
      "bannerHosts",
    );
  });

  it("judges no alignment when the probes' From domain is another organization's", () => {
    const options = postureOptionsForTarget(target({}), {
      ...context,
      probeFrom: "scout@monitor.example.net",
    });
    expect(options.fromDomain).toBeUndefined();
  });

  it("passes MTA-STS and TLS-RPT requirements and the HTTPS deadline", () => {
    const config = configWith({ posture: { mtaStsRequired: true, tlsRptRequired: true } });
    const options = postureOptionsForTarget(config.targets[0] as ScoutConfig["targets"][number], {
      ...context,
      config,
    });
    expect(options).toMatchObject({ mtaSts: { required: true, timeoutMs: 10_000 }, tlsRptRequired: true });
  });

  it("asks the posture block's blocklists about its outbound addresses too", () => {
    const config = parseConfigText(
      JSON.stringify({
        dataDir: "/unused",
        probeKeyFile: "/unused",
        inbound: { domain: "s.example.com", returnAddress: "r@s.example.com" },
        posture: { dnsbls: [{ zone: "bl.example.org", severity: "CRITICAL" }], outboundIps: ["192.0.2.25"] },
        targets: [{ id: "t", domain: "example.com" }],
      }),
      "dnsbl",
    );
    const options = postureOptionsForTarget(config.targets[0] as ScoutConfig["targets"][number], {
      config,
      probeFrom: "scout@s.example.com",
    });
    expect(options).toMatchObject({
      dnsbls: [{ zone: "bl.example.org", severity: "CRITICAL" }],
      outboundIps: ["192.0.2.25"],
    });
  });

  it("passes the reasons the target ignores", () => {
    const options = postureOptionsForTarget(
      target({ posture: { ignore: ["dmarc-monitoring-only", "mx-endpoints-differ"] } }),
      context,
    );
    expect(options.ignore).toEqual(["dmarc-monitoring-only", "mx-endpoints-differ"]);
  });

  it("takes the posture block's senderIp for a target that names none", () => {
    const config = parseConfigText(
      JSON.stringify({
        dataDir: "/unused",
        probeKeyFile: "/unused",
        inbound: { domain: "s.example.com", returnAddress: "r@s.example.com" },
        posture: { senderIp: "198.51.100.7" },
        targets: [
          { id: "own", domain: "example.com", posture: { senderIp: "192.0.2.25" } },
          { id: "shared", domain: "example.org" },
        ],
      }),
      "sender",
    );
    const [own, shared] = config.targets.map(
      (each) => postureOptionsForTarget(each, { config, probeFrom: "scout@s.example.com" }).senderIp,
    );
    expect([own, shared]).toEqual(["192.0.2.25", "198.51.100.7"]);
    expect(postureOptionsForTarget(target({}), context).senderIp).toBeUndefined();
  });

  it("takes the target's senderIp and fromDomain", () => {
    const options = postureOptionsForTarget(
      target({ posture: { senderIp: "192.0.2.25", fromDomain: "example.com" } }),
      context,
    );
    expect(options).toMatchObject({ endpointHosts: [], senderIp: "192.0.2.25", fromDomain: "example.com" });
  });
});
